# bash completion for pushwire — generated from the option tables by
# tools/gendocs.sh; do not edit.
_pushwire()
{
    local cur prev applet opts i=1
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    applet=${COMP_WORDS[0]##*/}
    applet=${applet#pushwire-}
    if [ "$applet" = pushwire ]; then
        if [ "$COMP_CWORD" -eq 1 ]; then
            COMPREPLY=($(compgen -W "help --help --version handshake portcheck" -- "$cur"))
            return
        fi
        applet=${COMP_WORDS[1]}
    fi
    case "$applet" in
    help)
        COMPREPLY=($(compgen -W "handshake portcheck" -- "$cur"))
        return ;;
    handshake)
        case "$prev" in
        --response|-R)
            COMPREPLY=()
            return ;;
        --subprotocol|-p)
            COMPREPLY=()
            return ;;
        --extension|-e)
            COMPREPLY=()
            return ;;
        esac
        opts="-h --help -v --verbose -q --quiet -g --gen-key -r --request -R --response -p --subprotocol -e --extension -j --json --lenient" ;;
    portcheck)
        case "$prev" in
        --target|-t)
            COMPREPLY=()
            return ;;
        --connections|-n)
            COMPREPLY=()
            return ;;
        --source|-s)
            COMPREPLY=()
            return ;;
        --ws )
            COMPREPLY=()
            return ;;
        --hold )
            COMPREPLY=()
            return ;;
        --rate|-r)
            COMPREPLY=()
            return ;;
        --parallel|-p)
            COMPREPLY=()
            return ;;
        --timeout )
            COMPREPLY=()
            return ;;
        esac
        opts="-h --help -v --verbose -q --quiet --json -t --target --server -n --connections -s --source --ws --hold -r --rate -p --parallel --timeout" ;;
    *) return ;;
    esac
    if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    else
        COMPREPLY=($(compgen -f -- "$cur"))
    fi
    (( i ))
}
complete -F _pushwire pushwire pushwire-handshake pushwire-portcheck
