"""The grader's client of a sandboxed kernel: a message that fails verification is dropped, not raised.

Everything a student's kernel sends is written by a process the student's code controls: it holds
the session key (``get_ipython().kernel.session``) and the sockets. jupyter_client raises on a
message whose signature does not match, whose frames are malformed or whose signature repeats
(``ValueError: Invalid Signature``), and nbclient lets that exception end the whole notebook: one
forged frame, or a frame mangled while a cell floods the kernel's output, would stop grading the
submission. :class:`GuardedKernelClient` reads every channel through :class:`GuardedChannel`, which
turns such a message into an inert placeholder (a message with no parent, which nbclient ignores)
and counts it in :attr:`GuardedChannel.dropped`, for the grader to report.

A well-signed message is still only what the student's kernel chose to send: that is why the
test cells run in the judge's kernel (:mod:`mlse.judge`), never here.
"""

from __future__ import annotations

import typing as t

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.blocking import BlockingKernelClient
from jupyter_client.channels import AsyncZMQSocketChannel, ZMQSocketChannel
from traitlets import Type

__all__ = ["GuardedChannel", "GuardedKernelClient", "GuardedBlockingChannel",
           "GuardedBlockingKernelClient", "DROPPED_TYPE", "dropped_count"]

#: ``msg_type`` of the placeholder that stands for a dropped message.
DROPPED_TYPE = "mlse_dropped_message"
MAX_REASONS = 5


def _placeholder() -> dict[str, t.Any]:
    header = {"msg_type": DROPPED_TYPE, "msg_id": ""}
    return {"header": header, "parent_header": {}, "metadata": {}, "content": {},
            "buffers": [], "msg_id": "", "msg_type": DROPPED_TYPE}


class _Verifying:
    """What both channel kinds share: decode the frames, or count them and return a placeholder."""

    def _start_counting(self) -> None:
        self.dropped = 0
        self.reasons: list[str] = []

    def _decode(self, frames: list) -> dict[str, t.Any]:
        try:
            _, signed = self.session.feed_identities(frames)
            return self.session.deserialize(signed)
        except Exception as exc:  # noqa: BLE001 - anything the kernel sent that is not a message
            self.dropped += 1
            if len(self.reasons) < MAX_REASONS:
                self.reasons.append(f"{type(exc).__name__}: {str(exc)[:120]}")
            return _placeholder()


class GuardedChannel(_Verifying, AsyncZMQSocketChannel):
    """An async channel whose reads never raise on a message that fails the session's checks."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._start_counting()

    async def _recv(self, **kwargs: t.Any) -> dict[str, t.Any]:  # type: ignore[override]
        assert self.socket is not None
        return self._decode(await self.socket.recv_multipart(**kwargs))


class GuardedBlockingChannel(_Verifying, ZMQSocketChannel):
    """The same for a blocking client (the judge's client of the student's kernel)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._start_counting()

    def _recv(self, **kwargs: t.Any) -> dict[str, t.Any]:
        assert self.socket is not None
        return self._decode(self.socket.recv_multipart(**kwargs))


class GuardedKernelClient(AsyncKernelClient):
    """nbclient's async kernel client with every socket channel a :class:`GuardedChannel`."""

    shell_channel_class = Type(GuardedChannel)  # type: ignore[assignment]
    iopub_channel_class = Type(GuardedChannel)  # type: ignore[assignment]
    stdin_channel_class = Type(GuardedChannel)  # type: ignore[assignment]
    control_channel_class = Type(GuardedChannel)  # type: ignore[assignment]

    async def wait_for_ready(self, timeout: float | None = None) -> None:  # type: ignore[override]
        """jupyter_client's wait: ``kernel_info`` until it is answered on shell *and* something
        arrives on iopub (until then the subscription may still be joining and outputs would be
        lost). Its check gives iopub 0.2 s per round, which a kernel that is already up spends
        in full whenever its first status messages went out before the subscription (about every
        time); this one looks every 20 ms and sends ``kernel_info`` again every 0.2 s."""
        import asyncio
        import time
        from queue import Empty

        deadline = time.monotonic() + (timeout if timeout is not None else float("inf"))
        answered = False
        while True:
            if not answered:
                self.kernel_info()
            round_end = time.monotonic() + 0.2
            while time.monotonic() < round_end:
                if not answered:
                    try:
                        msg = await self.shell_channel.get_msg(timeout=0.02)
                    except Empty:
                        pass
                    else:
                        answered = msg["msg_type"] == "kernel_info_reply"
                        if answered:
                            self._handle_kernel_info_reply(msg)
                if answered:
                    try:
                        await self.iopub_channel.get_msg(timeout=0.02)
                    except Empty:
                        pass
                    else:
                        return
            if answered:
                answered = False  # nothing on iopub yet: ask again, so there is something to see
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")
            await asyncio.sleep(0)


class GuardedBlockingKernelClient(BlockingKernelClient):
    """jupyter_client's blocking client with every socket channel a :class:`GuardedBlockingChannel`."""

    shell_channel_class = Type(GuardedBlockingChannel)  # type: ignore[assignment]
    iopub_channel_class = Type(GuardedBlockingChannel)  # type: ignore[assignment]
    stdin_channel_class = Type(GuardedBlockingChannel)  # type: ignore[assignment]
    control_channel_class = Type(GuardedBlockingChannel)  # type: ignore[assignment]


def dropped_count(client) -> tuple[int, list[str]]:
    """How many messages ``client``'s channels dropped so far, and the first few reasons."""
    total, reasons = 0, []
    for name in ("_shell_channel", "_iopub_channel", "_stdin_channel", "_control_channel"):
        channel = getattr(client, name, None)
        if isinstance(channel, _Verifying):
            total += channel.dropped
            reasons += channel.reasons
    return total, reasons[:MAX_REASONS]
