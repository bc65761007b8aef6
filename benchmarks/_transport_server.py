"""The minimal OCPP-J server of the transport benchmark, run as its own process.

It answers each CALL ``[2,"<id>","Heartbeat",{}]`` with ``[3,"<id>",{"currentTime":...}]``
doing as little as it can: it slices the id out of the frame instead of parsing JSON and
sends a prebuilt tail. It stands for an infinitely fast CSMS, so that what the clients spend
is the cost of our stack (trio, trio-websocket, wsproto, msgspec) and nothing else.

Run: ``python benchmarks/_transport_server.py [--delay SECONDS]``; it prints its URL once it
listens on 127.0.0.1 (a free port) and serves until killed.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable

import trio
import trio_websocket

RESULT_TAIL = ',{"currentTime":"2026-01-01T00:00:00Z"}]'


def make_handler(delay: float) -> Callable[[trio_websocket.WebSocketRequest], Awaitable[None]]:
    """A connection handler; `delay` (s) before each answer, as the CSMS's ``--delay``."""

    async def handler(request: trio_websocket.WebSocketRequest) -> None:
        ws = await request.accept(subprotocol="ocpp1.6")
        receive, send = ws.get_message, ws.send_message
        try:
            while True:
                frame = await receive()
                if delay:
                    await trio.sleep(delay)
                # '[2,"' is 4 characters: the id runs from there to the next quote.
                end = frame.index('"', 4)  # type: ignore[arg-type]
                await send("[3," + frame[3 : end + 1] + RESULT_TAIL)  # type: ignore[operator]
        except (trio_websocket.ConnectionClosed, ValueError):
            pass

    return handler


async def serve(delay: float) -> None:
    async with trio.open_nursery() as nursery:
        server = await nursery.start(
            trio_websocket.serve_websocket, make_handler(delay), "127.0.0.1", 0, None
        )
        print(f"minimal OCPP-J server listening on ws://127.0.0.1:{server.port}/ocpp", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    args = parser.parse_args()
    trio.run(serve, args.delay)


if __name__ == "__main__":
    main()
