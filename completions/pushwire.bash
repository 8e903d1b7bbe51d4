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
            COMPREPLY=($(compgen -W "help --help --version connect frame handshake portcheck replay serve" -- "$cur"))
            return
        fi
        applet=${COMP_WORDS[1]}
    fi
    case "$applet" in
    help)
        COMPREPLY=($(compgen -W "connect frame handshake portcheck replay serve" -- "$cur"))
        return ;;
    connect)
        case "$prev" in
        --header|-H)
            COMPREPLY=()
            return ;;
        --origin )
            COMPREPLY=()
            return ;;
        --subprotocol )
            COMPREPLY=()
            return ;;
        --linger )
            COMPREPLY=()
            return ;;
        --send )
            COMPREPLY=()
            return ;;
        --ping )
            COMPREPLY=()
            return ;;
        --max-message )
            COMPREPLY=()
            return ;;
        --count|-n)
            COMPREPLY=()
            return ;;
        --until )
            COMPREPLY=()
            return ;;
        --timeout )
            COMPREPLY=()
            return ;;
        --idle )
            COMPREPLY=()
            return ;;
        --last-event-id )
            COMPREPLY=()
            return ;;
        --since )
            COMPREPLY=()
            return ;;
        --cursor-file )
            COMPREPLY=($(compgen -f -- "$cur"))
            return ;;
        --record )
            COMPREPLY=($(compgen -f -- "$cur"))
            return ;;
        --write-out|-w)
            COMPREPLY=()
            return ;;
        --proxy )
            COMPREPLY=()
            return ;;
        --unix-socket )
            COMPREPLY=($(compgen -f -- "$cur"))
            return ;;
        --cacert )
            COMPREPLY=($(compgen -f -- "$cur"))
            return ;;
        --cert )
            COMPREPLY=($(compgen -f -- "$cur"))
            return ;;
        --key )
            COMPREPLY=($(compgen -f -- "$cur"))
            return ;;
        esac
        opts="-h --help -v --verbose -q --quiet --json -0 --null -H --header --origin --subprotocol --compress --binary --no-stdin --linger --wait --send --ping --max-message -n --count --until --timeout --idle --poll --last-event-id --since --reconnect --fail-on-gap --cursor-file --record -w --write-out --proxy --no-proxy --unix-socket --cacert -k --insecure --cert --key" ;;
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
        --header|-H)
            COMPREPLY=()
            return ;;
        --origin )
            COMPREPLY=()
            return ;;
        --cacert )
            COMPREPLY=($(compgen -f -- "$cur"))
            return ;;
        esac
        opts="-h --help -v --verbose -q --quiet -g --gen-key -r --request -R --response -p --subprotocol -e --extension -j --json --lenient -H --header --origin --cacert -k --insecure" ;;
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
    replay)
        case "$prev" in
        --speed )
            COMPREPLY=()
            return ;;
        --wait )
            COMPREPLY=()
            return ;;
        --max-diffs )
            COMPREPLY=()
            return ;;
        --serve )
            COMPREPLY=()
            return ;;
        --channel )
            COMPREPLY=()
            return ;;
        --backlog )
            COMPREPLY=()
            return ;;
        --max-line )
            COMPREPLY=()
            return ;;
        --cacert )
            COMPREPLY=($(compgen -f -- "$cur"))
            return ;;
        esac
        opts="-h --help -v --verbose -q --quiet --speed --no-delay --expect --wait --max-diffs --serve --channel --backlog --max-line --cacert -k --insecure" ;;
    serve)
        case "$prev" in
        --listen|-l)
            COMPREPLY=()
            return ;;
        --tls-cert )
            COMPREPLY=($(compgen -f -- "$cur"))
            return ;;
        --tls-key )
            COMPREPLY=($(compgen -f -- "$cur"))
            return ;;
        --channel|-c)
            COMPREPLY=()
            return ;;
        --backlog )
            COMPREPLY=()
            return ;;
        --history-bytes )
            COMPREPLY=()
            return ;;
        --message-ttl )
            COMPREPLY=()
            return ;;
        --max-channels )
            COMPREPLY=()
            return ;;
        --heartbeat )
            COMPREPLY=()
            return ;;
        --retry )
            COMPREPLY=()
            return ;;
        --poll-timeout )
            COMPREPLY=()
            return ;;
        --ping )
            COMPREPLY=()
            return ;;
        --max-message )
            COMPREPLY=()
            return ;;
        --max-conns )
            COMPREPLY=()
            return ;;
        --max-header-size )
            COMPREPLY=()
            return ;;
        --max-headers )
            COMPREPLY=()
            return ;;
        --send-buffer )
            COMPREPLY=()
            return ;;
        --write-delay )
            COMPREPLY=()
            return ;;
        --deflate-window )
            COMPREPLY=()
            return ;;
        --handshake-timeout )
            COMPREPLY=()
            return ;;
        --idle-timeout )
            COMPREPLY=()
            return ;;
        --drain )
            COMPREPLY=()
            return ;;
        --log )
            COMPREPLY=($(compgen -W "text json" -- "$cur"))
            return ;;
        --log-file )
            COMPREPLY=($(compgen -f -- "$cur"))
            return ;;
        --record )
            COMPREPLY=($(compgen -f -- "$cur"))
            return ;;
        --redis )
            COMPREPLY=()
            return ;;
        --token-file )
            COMPREPLY=($(compgen -f -- "$cur"))
            return ;;
        --publish-token-file )
            COMPREPLY=($(compgen -f -- "$cur"))
            return ;;
        --jwt-key )
            COMPREPLY=($(compgen -f -- "$cur"))
            return ;;
        --jwt-aud )
            COMPREPLY=()
            return ;;
        --origin )
            COMPREPLY=()
            return ;;
        --trusted-proxy )
            COMPREPLY=()
            return ;;
        --max-conns-per-ip )
            COMPREPLY=()
            return ;;
        --max-conn-rate )
            COMPREPLY=()
            return ;;
        --max-pub-rate )
            COMPREPLY=()
            return ;;
        --limit-exempt )
            COMPREPLY=()
            return ;;
        --exec )
            COMPREPLY=()
            return ;;
        --max-procs )
            COMPREPLY=()
            return ;;
        --exec-grace )
            COMPREPLY=()
            return ;;
        --workers )
            COMPREPLY=($(compgen -W "auto" -- "$cur"))
            return ;;
        esac
        opts="-h --help -v --verbose -q --quiet -l --listen --tls-cert --tls-key -c --channel --stdin --echo --read-only --backlog --history-bytes --message-ttl --max-channels --metrics-per-channel --heartbeat --retry --poll-timeout --ping --max-message --max-conns --max-header-size --max-headers --send-buffer --write-delay --write-delay-adaptive --deflate-context --deflate-window --handshake-timeout --idle-timeout --drain --log --log-file --record --redis --token-file --publish-token-file --jwt-key --jwt-aud --origin --trusted-proxy --max-conns-per-ip --max-conn-rate --max-pub-rate --limit-exempt --exec --max-procs --exec-grace --workers" ;;
    *) return ;;
    esac
    if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    else
        COMPREPLY=($(compgen -f -- "$cur"))
    fi
    (( i ))
}
complete -F _pushwire pushwire pushwire-connect pushwire-frame pushwire-handshake pushwire-portcheck pushwire-replay pushwire-serve
