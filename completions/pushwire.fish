# fish completion for pushwire — generated from the option tables by
# tools/gendocs.sh; do not edit.
complete -c pushwire -f
set -l __pw_applets handshake
complete -c pushwire -n "not __fish_seen_subcommand_from $__pw_applets help" -a help -d 'show help for an applet'
complete -c pushwire -n "__fish_seen_subcommand_from help" -a "$__pw_applets"
complete -c pushwire -n "not __fish_seen_subcommand_from $__pw_applets help" -l version -d 'print the version'
complete -c pushwire -n "not __fish_seen_subcommand_from $__pw_applets help" -a handshake -d 'compute and check the WebSocket opening handshake'
complete -c pushwire -n "__fish_seen_subcommand_from handshake" -s h -l help -d 'show this help and exit'
complete -c pushwire-handshake -s h -l help -d 'show this help and exit'
complete -c pushwire -n "__fish_seen_subcommand_from handshake" -s v -l verbose -d 'show the wire on stderr'
complete -c pushwire-handshake -s v -l verbose -d 'show the wire on stderr'
complete -c pushwire -n "__fish_seen_subcommand_from handshake" -s q -l quiet -d 'silence diagnostics'
complete -c pushwire-handshake -s q -l quiet -d 'silence diagnostics'
complete -c pushwire -n "__fish_seen_subcommand_from handshake" -s g -l gen-key -d 'print a fresh random Sec-WebSocket-Key'
complete -c pushwire-handshake -s g -l gen-key -d 'print a fresh random Sec-WebSocket-Key'
complete -c pushwire -n "__fish_seen_subcommand_from handshake" -s r -l request -d 'check the upgrade request in FILE (default stdin) and print the response a server must send'
complete -c pushwire-handshake -s r -l request -d 'check the upgrade request in FILE (default stdin) and print the response a server must send'
complete -c pushwire -n "__fish_seen_subcommand_from handshake" -s R -l response -x -d 'check the server response in FILE (default stdin) against the key KEY'
complete -c pushwire-handshake -s R -l response -x -d 'check the server response in FILE (default stdin) against the key KEY'
complete -c pushwire -n "__fish_seen_subcommand_from handshake" -s p -l subprotocol -x -d 'a subprotocol the server speaks (--request) or the client offered (--response); repeatable'
complete -c pushwire-handshake -s p -l subprotocol -x -d 'a subprotocol the server speaks (--request) or the client offered (--response); repeatable'
complete -c pushwire -n "__fish_seen_subcommand_from handshake" -s e -l extension -x -d 'with --response: an extension the client offered; repeatable'
complete -c pushwire-handshake -s e -l extension -x -d 'with --response: an extension the client offered; repeatable'
complete -c pushwire -n "__fish_seen_subcommand_from handshake" -s j -l json -d 'print the verdict as one JSON object'
complete -c pushwire-handshake -s j -l json -d 'print the verdict as one JSON object'
complete -c pushwire -n "__fish_seen_subcommand_from handshake" -l lenient -d 'compute the accept value even for a key that is not 16 bytes of base64'
complete -c pushwire-handshake -l lenient -d 'compute the accept value even for a key that is not 16 bytes of base64'
