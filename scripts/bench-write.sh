#!/usr/bin/env bash
# The write path under load (resilience issue, item 2): an editor's 100,000-row import approved
#  1. on an idle server, then
#  2. while wrk keeps 64 connections busy with uncached reads (status answers and profiles, a
#     different as_of on every request),
# and, during the loaded approval, a login (which writes a session) and a small command-line
# import of another process. Prints the approval times, their ratio (goal: at most 2x), the
# login's latency and status, the CLI import's outcome, and wrk's figures (errors included).
# Usage: scripts/bench-write.sh [ROWS]     (default 100000; DURATION of the load is automatic)
# Installs wrk (Debian, as root) when missing. Writes under bench-out/write/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rows=${1:-100000}
out=$root/bench-out/write
target=${CARGO_TARGET_DIR:-$root/target}
mw=$target/release/minewatch
mkdir -p "$out"
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
cargo build --release --quiet --manifest-path "$root/Cargo.toml" -p minewatch

db=$out/write.sqlite
rm -f "$db" "$db"-wal "$db"-shm
"$mw" --db "$db" load >/dev/null 2>&1
for u in alice bob carol; do
  printf 'pw-%s-123456789\n' "$u" | "$mw" --db "$db" user add "$u" --role editor >/dev/null
done
tb=$("$mw" --db "$db" user token bob)
python3 "$root/scripts/gen_facts.py" "$rows" "$out/facts.csv" "$out/sources.csv"
"$mw" --db "$db" import sources "$out/sources.csv" >/dev/null
# The second proposal needs keys of its own.
sed '2,$ s/^bench:/bench2:/' "$out/facts.csv" >"$out/facts2.csv"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$mw" --db "$db" serve --bind "127.0.0.1:$port" 2>"$out/serve.log" &
pid=$!
wrk_pid=
cleanup() { [ -n "$wrk_pid" ] && kill "$wrk_pid" 2>/dev/null; kill "$pid" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT
base=http://127.0.0.1:$port
for _ in $(seq 100); do curl -fs "$base/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

propose() { # file -> proposal id (the desk's upload form takes 16 MiB; an API body 256 KiB)
  python3 - "$base" "$1" <<'EOF'
import http.cookiejar, re, sys, uuid, urllib.error, urllib.parse, urllib.request
base, path = sys.argv[1:3]
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None
op = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect())
def csrf(url):
    page = op.open(base + url, timeout=600).read().decode()
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)
def post(url, data, ctype):
    req = urllib.request.Request(base + url, data=data, method="POST", headers={"Content-Type": ctype})
    try:
        return op.open(req, timeout=600)
    except urllib.error.HTTPError as e:
        if e.code == 303:
            return e
        raise
login = {"csrf": csrf("/login"), "username": "alice", "password": "pw-alice-123456789", "next": "/desk"}
post("/login", urllib.parse.urlencode(login).encode(), "application/x-www-form-urlencoded")
b = uuid.uuid4().hex
parts = []
for k, v in (("csrf", csrf("/desk/import")), ("importer", "facts-csv"), ("summary", "benchmark import")):
    parts.append(f'--{b}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
head = f'--{b}\r\nContent-Disposition: form-data; name="file"; filename="facts.csv"\r\nContent-Type: text/csv\r\n\r\n'
parts.append(head.encode() + open(path, "rb").read() + f'\r\n--{b}--\r\n'.encode())
r = post("/desk/import", b"".join(parts), f"multipart/form-data; boundary={b}")
print(re.search(r"/desk/proposals/(\d+)", r.headers["Location"]).group(1))
EOF
}
approve() { # id -> seconds
  local t0 t1
  t0=$(date +%s.%N)
  curl -fs -X POST -H "Authorization: Bearer $tb" "$base/api/v1/proposals/$1/approve" >/dev/null
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}'
}

p1=$(propose "$out/facts.csv")
p2=$(propose "$out/facts2.csv")
idle=$(approve "$p1")
echo "approval of $rows rows, idle server: ${idle} s"

cat >"$out/reads.lua" <<'EOF'
local codes = {"NOR","USA","UKR","AFG","KHM","MOZ","COL","IRQ","BIH","TUR","MMR","RUS"}
local n = 0
request = function()
  n = n + 1
  local code = codes[(n % #codes) + 1]
  local day = string.format("20%02d-%02d-%02d", 5 + (n % 20), 1 + (n % 12), 1 + (n % 28))
  if n % 2 == 0 then
    return wrk.format("GET", "/api/v1/states/" .. code .. "/status?as_of=" .. day)
  end
  return wrk.format("GET", "/states/" .. code .. "?as_of=" .. day)
end
EOF
wrk -t2 -c64 -d600s --latency -s "$out/reads.lua" "$base" >"$out/wrk.txt" 2>&1 &
wrk_pid=$!
sleep 3
t0=$(date +%s.%N)
approve "$p2" >"$out/loaded.txt" &
approving=$!
# The approval first waits for its turn among the queued reads; 3 s in, it is writing.
sleep 3
printf 'key,title,publisher,published\nbench-write-cli,A source imported during the approval,minewatch,2026\n' >"$out/small.csv"
( cli_t0=$(date +%s.%N)
  if "$mw" --db "$db" import sources "$out/small.csv" >"$out/cli.out" 2>"$out/cli.err"; then r=ok; else r=FAILED; fi
  echo "$r after $(awk -v a="$cli_t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b-a}') s" >"$out/cli.result" ) &
cli_pid=$!
# A login while the approval runs: the form's CSRF token, then the POST.
login=$(python3 - "$base" <<'EOF'
import http.cookiejar, re, sys, time, urllib.request, urllib.parse
base = sys.argv[1]
jar = http.cookiejar.CookieJar()
op = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k): return None
op.add_handler(NoRedirect())
t = time.time()
page = op.open(base + "/login", timeout=600).read().decode()
csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
data = urllib.parse.urlencode({"csrf": csrf, "username": "carol", "password": "pw-carol-123456789", "next": "/desk"}).encode()
try:
    r = op.open(base + "/login", data=data, timeout=600); status = r.status
except urllib.error.HTTPError as e:
    status = e.code
print(f"{status} in {time.time() - t:.2f} s")
EOF
)
wait "$approving"
wait "$cli_pid"
loaded=$(cat "$out/loaded.txt")
kill -INT "$wrk_pid" 2>/dev/null || true
wait "$wrk_pid" 2>/dev/null || true
wrk_pid=
echo "approval of $rows rows under 64 connections of reads: ${loaded} s"
echo "ratio: $(awk -v a="$loaded" -v b="$idle" 'BEGIN{printf "%.2f", a/b}')x (goal: at most 2x)"
echo "login during the loaded approval: $login"
echo "CLI import started during it: $(cat "$out/cli.result"); it said: $(tr '\n' ' ' <"$out/cli.err")"
echo "reads during the loaded approval (wrk):"
grep -E "Requests/sec|Latency  |50%|99%|Non-2xx|Socket errors" "$out/wrk.txt" | sed 's/^/  /'
