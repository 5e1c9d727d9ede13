# Shared by scripts/run and scripts/test; source it, don't run it.
# Every tool is installed on demand because CI and new machines start from a clean clone.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS_DIR="$ROOT/.tools" # gitignored, so `cargo lambda watch` doesn't reload when it changes

# The versions the router syntax and the local DynamoDB behaviour were checked against.
# Both as `cargo arc dev` installs them (tests/tests/dev.rs checks).
CARGO_LAMBDA_VERSION="1.9.2"
DYNALITE_VERSION="4.0.0"
# The CloudFormation linter that checks `cargo arc sam`'s templates, SAM transform included.
CFN_LINT_VERSION="1.58.0"
# SAM's own CLI, to build the generated template the way a deploy does.
SAM_CLI_VERSION="1.170.0"
# The dependency policy's checker (deny.toml), built from crates.io: its releases ship no
# binary the registries carry.
CARGO_DENY_VERSION="0.20.2"
# A local Secrets Manager (moto's server mode speaks the real API), for ARC_APP_SECRET_ARN.
MOTO_VERSION="5.2.5"

# The example app's session table (app.arc `@tables`), keyed on `_idx` like Architect's.
SESSION_TABLE="bigsesh-session"

# The time on each line shows where a long run (CI) spends it.
log() { printf '==> %s %s\n' "$(date +%T)" "$*" >&2; }

# One EXIT trap for everything a script starts; INT and TERM go through it too.
_CLEANUP=()
_run_cleanup() {
	local cmd
	for cmd in "${_CLEANUP[@]}"; do eval "$cmd" || true; done
}
trap _run_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Free space where the build writes, and what target/ holds.
report_disk() {
	local target="${CARGO_TARGET_DIR:-$ROOT/target}" used="none"
	if [[ -d "$target" ]]; then used="$(du -sh "$target" 2>/dev/null | cut -f1)"; fi
	log "disk: $(df -h --output=avail "$ROOT" | tail -1 | tr -d ' ') free, target/ $used"
}

# Some machines of this kind come up with /dev/null as a regular file that keeps what is written to
# it. cargo learns about the target by running `rustc -` with stdin from /dev/null, and rustc then
# compiles whatever other tools' output landed there ("failed to run `rustc` to learn about
# target-specific information", and cargo caches that failure in target/.rustc_info.json). Put
# the device back before any cargo runs; without the rights for that, say so and go on.
ensure_dev_null() {
	if [[ -c /dev/null ]]; then return; fi
	log "/dev/null is not the null device; recreating it"
	local sudo=()
	if [[ "$(id -u)" != 0 ]]; then sudo=(sudo -n); fi
	if "${sudo[@]}" rm -f /dev/null && "${sudo[@]}" mknod -m 666 /dev/null c 1 3; then
		# A cached probe failure would outlive the repair.
		rm -f "${CARGO_TARGET_DIR:-$ROOT/target}/.rustc_info.json"
	else
		echo "cannot recreate /dev/null: cargo may fail to learn about the target" >&2
	fi
}
ensure_dev_null

ensure_cargo_lambda() {
	if cargo lambda --version >/dev/null 2>&1; then return; fi
	log "installing cargo-lambda $CARGO_LAMBDA_VERSION from PyPI"
	# The PyPI package ships the prebuilt binary; pip is the only installer that needs no
	# other download site.
	python3 -m pip install --quiet --disable-pip-version-check "cargo-lambda==$CARGO_LAMBDA_VERSION"
	# pyenv only exposes new console scripts after a rehash.
	if command -v pyenv >/dev/null 2>&1; then pyenv rehash; fi
	cargo lambda --version >/dev/null
}

# A PyPI tool pinned in a virtualenv of its own under .tools/DIR: its many Python dependencies stay
# out of the machine's Python, and the pinned version is the one CI runs whatever else is installed.
# ensure_pip_tool DIR REQUIREMENT BINARY "EXPECTED --version OUTPUT"
ensure_pip_tool() {
	local dir="$1" requirement="$2" binary="$TOOLS_DIR/$1/bin/$3" expected="$4"
	if [[ -x "$binary" ]] && [[ "$("$binary" --version)" == "$expected" ]]; then return; fi
	log "installing $requirement from PyPI into .tools/$dir"
	python3 -m venv "$TOOLS_DIR/$dir"
	"$TOOLS_DIR/$dir/bin/pip" install --quiet --disable-pip-version-check "$requirement"
	"$binary" --version >/dev/null
}

CFN_LINT="$TOOLS_DIR/cfn-lint/bin/cfn-lint"
ensure_cfn_lint() {
	ensure_pip_tool cfn-lint "cfn-lint==$CFN_LINT_VERSION" cfn-lint "cfn-lint $CFN_LINT_VERSION"
}

SAM_CLI="$TOOLS_DIR/sam/bin/sam"
ensure_sam_cli() {
	ensure_pip_tool sam "aws-sam-cli==$SAM_CLI_VERSION" sam "SAM CLI, version $SAM_CLI_VERSION"
}

ensure_cargo_deny() {
	if [[ "$(cargo deny --version 2>/dev/null)" == "cargo-deny $CARGO_DENY_VERSION" ]]; then return; fi
	log "installing cargo-deny $CARGO_DENY_VERSION from crates.io (a few minutes, once)"
	cargo install --quiet --locked --version "$CARGO_DENY_VERSION" cargo-deny
}

MOTO_SERVER="$TOOLS_DIR/moto/bin/moto_server"
ensure_moto() {
	if [[ -x "$MOTO_SERVER" ]] && "$TOOLS_DIR/moto/bin/python" -c \
		"import moto, sys; sys.exit(moto.__version__ != '$MOTO_VERSION')" 2>/dev/null; then
		return
	fi
	log "installing moto[server] $MOTO_VERSION from PyPI into .tools/moto"
	python3 -m venv "$TOOLS_DIR/moto"
	"$TOOLS_DIR/moto/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
	[[ -x "$MOTO_SERVER" ]]
}

# start_moto: moto's server on a free loopback port for this script's lifetime, as the local
# Secrets Manager and SSM. Exports AWS_ENDPOINT_URL_SECRETS_MANAGER and AWS_ENDPOINT_URL_SSM.
start_moto() {
	ensure_moto
	local port out="$TOOLS_DIR/moto.$$.out"
	port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
	"$MOTO_SERVER" -H 127.0.0.1 -p "$port" >"$out" 2>&1 &
	MOTO_PID=$!
	_CLEANUP+=("stop_moto")
	local i
	for ((i = 0; i < 300; i++)); do
		if python3 -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$port/moto-api/', timeout=1)" 2>/dev/null; then break; fi
		if ! kill -0 "$MOTO_PID" 2>/dev/null; then break; fi
		sleep 0.1
	done
	if ! kill -0 "$MOTO_PID" 2>/dev/null || ((i == 300)); then
		cat "$out" >&2
		echo "moto's server did not start" >&2
		return 1
	fi
	export AWS_ENDPOINT_URL_SECRETS_MANAGER="http://127.0.0.1:$port"
	export AWS_ENDPOINT_URL_SSM="http://127.0.0.1:$port"
	export AWS_REGION="${AWS_REGION:-us-east-1}"
	export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-local}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-local}"
	log "moto (Secrets Manager, SSM) on $AWS_ENDPOINT_URL_SECRETS_MANAGER"
}

stop_moto() {
	if [[ -n "${MOTO_PID:-}" ]]; then
		kill "$MOTO_PID" 2>/dev/null || true
		wait "$MOTO_PID" 2>/dev/null || true
		rm -f "$TOOLS_DIR/moto.$$.out"
		MOTO_PID=""
	fi
}

ensure_dynalite() {
	if [[ -f "$TOOLS_DIR/node_modules/dynalite/package.json" ]]; then return; fi
	log "installing dynalite $DYNALITE_VERSION from npm into .tools/"
	mkdir -p "$TOOLS_DIR"
	npm install --prefix "$TOOLS_DIR" --no-audit --no-fund --loglevel=error \
		"dynalite@$DYNALITE_VERSION"
}

# The Node side of the interop tests: the pinned @architect/functions and @architect/sandbox.
ensure_interop() {
	if [[ -f "$ROOT/tests/interop/node_modules/@architect/functions/package.json" ]]; then return; fi
	log "installing tests/interop (pinned @architect/functions and sandbox) from npm"
	npm ci --prefix "$ROOT/tests/interop" --no-audit --no-fund --loglevel=error
}

# Headless Chromium for the browser test, from Debian's packages: browser builds that npm or
# Playwright would download come from sites other than the package registries.
ensure_chromium() {
	if [[ -x /usr/bin/chromium ]]; then return; fi
	log "installing chromium from apt"
	local sudo=()
	if [[ $EUID -ne 0 ]]; then sudo=(sudo); fi
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
	# No recommends (that would be a desktop's worth); a font of our own so the page has text.
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
	# The launcher's stderr has a harmless shell warning about /dev/shm on some machines.
	if ! /usr/bin/chromium --version >/dev/null 2>&1; then
		echo "chromium was installed but does not start: /usr/bin/chromium --version" >&2
		return 1
	fi
}

# The browser test's driver: playwright-core (no browser download of its own), pinned in
# tests/browser/package-lock.json.
ensure_browser_test() {
	if [[ -d "$ROOT/tests/browser/node_modules/playwright-core" ]]; then return; fi
	log "installing tests/browser (pinned playwright-core) from npm"
	npm ci --prefix "$ROOT/tests/browser" --no-audit --no-fund --loglevel=error
}

# start_dynalite [TABLE...]: an in-memory DynamoDB on a free loopback port, with TABLEs created,
# for this script's lifetime. Exports what the AWS SDK (Rust and Node) reads to find it.
start_dynalite() {
	ensure_dynalite
	local out="$TOOLS_DIR/dynalite.$$.out"
	: >"$out"
	# The helper binds port 0 itself, so there is no window where another process takes the port.
	NODE_PATH="$TOOLS_DIR/node_modules" node "$ROOT/crates/cargo-arc/src/dev/dynalite.js" "$@" >"$out" 2>&1 &
	DYNALITE_PID=$!
	_CLEANUP+=("stop_dynalite")

	local port="" i
	for ((i = 0; i < 300; i++)); do
		port="$(sed -n 's/^READY \([0-9]*\)$/\1/p' "$out")"
		if [[ -n "$port" ]]; then break; fi
		if ! kill -0 "$DYNALITE_PID" 2>/dev/null; then break; fi
		sleep 0.1
	done
	if [[ -z "$port" ]]; then
		cat "$out" >&2
		echo "dynalite did not start" >&2
		return 1
	fi

	export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$port"
	export AWS_REGION="us-east-1"
	# dynalite never checks signatures, but the SDKs refuse to sign without credentials.
	export AWS_ACCESS_KEY_ID="local"
	export AWS_SECRET_ACCESS_KEY="local"
	log "dynalite on $AWS_ENDPOINT_URL_DYNAMODB (tables: ${*:-none})"
}

stop_dynalite() {
	if [[ -n "${DYNALITE_PID:-}" ]]; then
		kill "$DYNALITE_PID" 2>/dev/null || true
		wait "$DYNALITE_PID" 2>/dev/null || true
		rm -f "$TOOLS_DIR/dynalite.$$.out"
		DYNALITE_PID=""
	fi
}
