#!/usr/bin/env python3
"""The copy's live site: serves whichever release the router points at.

GET /              the live release's page (its index.html); 503 during maintenance
GET /health        "ok" while the server runs
GET /release       the live side's name
GET /config/NAME   the application's setting NAME (APP_ROOT/config/NAME): which store it reads,
                   whether writes are frozen, which database it uses
Reads APP_ROOT/router/live on every request, so switching is a file write. Binds a free
loopback port and writes it to APP_ROOT/port before serving.
"""
import http.server
import os
import pathlib
import sys

root = pathlib.Path(sys.argv[1]).resolve()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        live = (root / "router" / "live").read_text().strip()
        if self.path == "/health":
            body = b"ok\n"
        elif self.path == "/release":
            body = (live + "\n").encode()
        elif self.path.startswith("/config/"):
            setting = root / "config" / pathlib.Path(self.path).name
            if not setting.is_file():
                self.send_error(404, "no such setting")
                return
            body = setting.read_bytes()
        elif self.path == "/":
            if live == "maintenance":
                self.send_error(503, "down for maintenance")
                return
            page = root / "sides" / live / "index.html"
            if not page.exists():
                self.send_error(503, f"side {live} has no release deployed")
                return
            body = page.read_bytes()
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
(root / "port.tmp").write_text(str(server.server_address[1]))
os.replace(root / "port.tmp", root / "port")
server.serve_forever()
