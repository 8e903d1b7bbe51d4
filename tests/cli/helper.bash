# helper.bash — loaded by every CLI suite: bats-assert, $PW, temp dirs.
bats_load_library bats-support 2>/dev/null || load /usr/lib/bats/bats-support/load
bats_load_library bats-assert 2>/dev/null || load /usr/lib/bats/bats-assert/load

: "${PW:=$BATS_TEST_DIRNAME/../../pushwire}"
TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

# run the binary; under ASan the suite sets PW to the sanitizer build
pw() { "$PW" "$@"; }
