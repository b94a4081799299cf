"""Stage 5, outputs: what leaves the gradebook (feedback for students, grades for the LMS, the
instructor's item-analysis report)."""
