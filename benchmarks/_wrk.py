"""Load generation with wrk: batches of Segment events with unique messageIds.

wrk runs in C with a Lua script, so the load generator takes little of the two
cores the server also needs. Each request body is a `/v1/batch` of
``events_per_request`` events whose messageIds are built from the wrk thread,
the request counter and the event's position, so no two are alike and the
server's dedupe never short-cuts the work.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

_EVENT = {
    "type": "track",
    "event": "Product Viewed",
    "messageId": "@MID@",
    "anonymousId": "anon-@MID@",
    "userId": "kh-@MID@",
    "timestamp": "2026-11-20T03:15:42.123Z",
    "properties": {"product_id": "SAO-M-0412", "sku": "SAO-M-0412-41-DEN",
                   "name": "Giày tây nam da bò",
                   "brand": "Sao", "category": "Giày nam", "price": 2450000, "currency": "VND",
                   "size": "41", "colour": "Đen"},
    "context": {"ip": "113.161.42.7", "locale": "vi-VN",
                "userAgent": "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/130 Mobile",
                "library": {"name": "analytics.js", "version": "2.11.1"},
                "page": {"path": "/giay-nam/sao-m-0412", "url": "https://shop.example.vn/giay-nam/sao-m-0412"}},
}

_LUA = r"""
local parts = {PARTS}
local n_events = {N}
local counter = 0
local threads = {}
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end
request = function()
  counter = counter + 1
  local prefix = string.format("{RUN}-%d-%d-", tid, counter)
  local out = {}
  for i = 1, #parts do
    out[#out + 1] = parts[i]
    if i < #parts then
      local ev = math.floor((i - 1) / {PER}) 
      out[#out + 1] = prefix .. ev
    end
  end
  return wrk.format("POST", "/v1/batch", nil, table.concat(out))
end
"""


def batch_body(events_per_request: int) -> str:
    """A batch body with ``@MID@`` where each messageId part goes."""
    ev = json.dumps(_EVENT, ensure_ascii=False, separators=(",", ":"))
    return '{"batch":[' + ",".join([ev] * events_per_request) + "]}"


def lua_script(events_per_request: int, run_id: str = "r") -> str:
    body = batch_body(events_per_request)
    parts = body.split("@MID@")
    per = body.count("@MID@") // events_per_request
    lua_parts = "{" + ",".join("[==[" + p + "]==]" for p in parts) + "}"
    return (_LUA.replace("{PARTS}", lua_parts).replace("{N}", str(events_per_request))
            .replace("{PER}", str(per)).replace("{RUN}", run_id))


def run_wrk(url: str, write_key: str, *, seconds: float, connections: int,
            events_per_request: int = 100) -> dict[str, float]:
    """Run wrk against ``url`` for ``seconds``; return requests, non-2xx and latency."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: `apt-get install -y wrk` (scripts/setup.sh does).")
    auth = base64.b64encode(f"{write_key}:".encode()).decode()
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "batch.lua"
        run_id = Path(tmp).name.replace("_", "")
        script.write_text(lua_script(events_per_request, run_id), encoding="utf-8")
        cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script),
               "-H", f"Authorization: Basic {auth}", "-H", "Content-Type: application/json", url]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 1e-3, "ms": 1.0, "s": 1e3}
    return {
        "requests": requests,
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "p99_ms": float(p99.group(1)) * scale[p99.group(2)] if p99 else float("nan"),
        "raw": out,
    }
