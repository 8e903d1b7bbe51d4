# fish completion for pushwire — generated from the option tables by
# tools/gendocs.sh; do not edit.
complete -c pushwire -f
set -l __pw_applets
complete -c pushwire -n "not __fish_seen_subcommand_from $__pw_applets help" -a help -d 'show help for an applet'
complete -c pushwire -n "__fish_seen_subcommand_from help" -a "$__pw_applets"
complete -c pushwire -n "not __fish_seen_subcommand_from $__pw_applets help" -l version -d 'print the version'
