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
            COMPREPLY=($(compgen -W "help --help --version frame portcheck" -- "$cur"))
            return
        fi
        applet=${COMP_WORDS[1]}
    fi
    case "$applet" in
    help)
        COMPREPLY=($(compgen -W "frame portcheck" -- "$cur"))
        return ;;
    frame)
        case "$prev" in
        --role|-r)
            COMPREPLY=($(compgen -W "client server" -- "$cur"))
            return ;;
        --opcode|-o)
            COMPREPLY=($(compgen -W "text binary continuation close ping pong" -- "$cur"))
            return ;;
        --mask|-m)
            COMPREPLY=($(compgen -W "random" -- "$cur"))
            return ;;
        --close-code|-c)
            COMPREPLY=()
            return ;;
        --len-form|-l)
            COMPREPLY=($(compgen -W "7 16 64" -- "$cur"))
            return ;;
        --file|-f)
            COMPREPLY=($(compgen -f -- "$cur"))
            return ;;
        --id|-i)
            COMPREPLY=()
            return ;;
        --event|-e)
            COMPREPLY=()
            return ;;
        --retry )
            COMPREPLY=()
            return ;;
        esac
        opts="-h --help -v --verbose -q --quiet -d --decode -x --hex -j --json -r --role -o --opcode --no-fin --rsv1 --rsv2 --rsv3 -m --mask -n --no-mask -c --close-code -l --len-form -f --file -s --sse -i --id -e --event --retry" ;;
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
complete -F _pushwire pushwire pushwire-frame pushwire-portcheck
