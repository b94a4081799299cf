#!/bin/bash
# Before a server starts (docker-stacks' before-notebook.d): the lessons into ~/COURSE/lessons the
# first time, never over the student's own copy.
course="${MLSE_COURSE_ID:-mlse}"
if [ ! -e "${HOME}/${course}/lessons" ]; then
    mkdir -p "${HOME}/${course}"
    cp -r /opt/mlse/lessons "${HOME}/${course}/lessons"
fi
