"""Run one provider sandbox on its own: ``python -m sen.demo.sandbox esms --port 9100``.

For load and crash tests that must not share a process (and its interpreter lock)
with what they measure, and for trying a provider by hand.
"""

from __future__ import annotations

import argparse

import uvicorn

from sen.demo.sandbox import EsmsSandbox, SpeedSmsSandbox, ZaloSandbox

KINDS = {"esms": EsmsSandbox, "speedsms": SpeedSmsSandbox, "zalo": ZaloSandbox}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=sorted(KINDS))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--single-advertising", action="store_true",
                        help="eSMS: take personalised advertising one message at a time")
    args = parser.parse_args()
    options = {"single_advertising": True} if args.single_advertising else {}
    sandbox = KINDS[args.kind](**options)
    uvicorn.run(sandbox.app(), host="127.0.0.1", port=args.port, log_level="warning",
                access_log=False, loop="uvloop", http="httptools")


if __name__ == "__main__":
    main()
