# bash completion for pushwire — generated from the option tables by
# tools/gendocs.sh; do not edit.
_pushwire()
{
    local cur prev applet opts eq= pre= val= r i=1
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    # --opt=VALUE: with '=' in COMP_WORDBREAKS (the default) bash makes
    # '=' a word, and the current one is '=' itself or what follows it;
    # without, the word is --opt=VALUE whole and each reply carries --opt=
    if [[ $cur == = && $prev == -* ]]; then
        cur= eq=1
    elif [[ $prev == = && $COMP_CWORD -ge 2 ]]; then
        prev=${COMP_WORDS[COMP_CWORD-2]} eq=1
    elif [[ $cur == --*=* ]]; then
        prev=${cur%%=*} cur=${cur#*=} eq=1
        pre=$prev=
    fi
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
            val=1 ;;
        --origin )
            COMPREPLY=()
            val=1 ;;
        --subprotocol )
            COMPREPLY=()
            val=1 ;;
        --linger )
            COMPREPLY=()
            val=1 ;;
        --send )
            COMPREPLY=()
            val=1 ;;
        --ping )
            COMPREPLY=()
            val=1 ;;
        --max-message )
            COMPREPLY=()
            val=1 ;;
        --count|-n)
            COMPREPLY=()
            val=1 ;;
        --until )
            COMPREPLY=()
            val=1 ;;
        --timeout )
            COMPREPLY=()
            val=1 ;;
        --idle )
            COMPREPLY=()
            val=1 ;;
        --connect-timeout )
            COMPREPLY=()
            val=1 ;;
        --last-event-id )
            COMPREPLY=()
            val=1 ;;
        --since )
            COMPREPLY=()
            val=1 ;;
        --reconnect)
            if [ -n "$eq" ]; then
                COMPREPLY=()
                val=1
            fi ;;
        --cursor-file )
            COMPREPLY=($(compgen -f -- "$cur"))
            val=1 ;;
        --record )
            COMPREPLY=($(compgen -f -- "$cur"))
            val=1 ;;
        --write-out|-w)
            COMPREPLY=()
            val=1 ;;
        --proxy )
            COMPREPLY=()
            val=1 ;;
        --unix-socket )
            COMPREPLY=($(compgen -f -- "$cur"))
            val=1 ;;
        --cacert )
            COMPREPLY=($(compgen -f -- "$cur"))
            val=1 ;;
        --cert )
            COMPREPLY=($(compgen -f -- "$cur"))
            val=1 ;;
        --key )
            COMPREPLY=($(compgen -f -- "$cur"))
            val=1 ;;
        esac
        opts="-h --help -v --verbose -q --quiet --json -0 --null -H --header --origin --subprotocol --compress --binary --no-stdin --linger --wait --send --ping --max-message -n --count --until --timeout --idle --connect-timeout --poll --last-event-id --since --reconnect --fail-on-gap --cursor-file --record -w --write-out --proxy --no-proxy --unix-socket --cacert -k --insecure --cert --key" ;;
    frame)
        case "$prev" in
        --role|-r)
            COMPREPLY=($(compgen -W "client server" -- "$cur"))
            val=1 ;;
        --opcode|-o)
            COMPREPLY=($(compgen -W "text binary continuation close ping pong" -- "$cur"))
            val=1 ;;
        --mask|-m)
            COMPREPLY=($(compgen -W "random" -- "$cur"))
            val=1 ;;
        --close-code|-c)
            COMPREPLY=()
            val=1 ;;
        --len-form|-l)
            COMPREPLY=($(compgen -W "7 16 64" -- "$cur"))
            val=1 ;;
        --file|-f)
            COMPREPLY=($(compgen -f -- "$cur"))
            val=1 ;;
        --id|-i)
            COMPREPLY=()
            val=1 ;;
        --event|-e)
            COMPREPLY=()
            val=1 ;;
        --retry )
            COMPREPLY=()
            val=1 ;;
        esac
        opts="-h --help -v --verbose -q --quiet -d --decode -x --hex -j --json -r --role -o --opcode --no-fin --rsv1 --rsv2 --rsv3 --deflate -m --mask -n --no-mask -c --close-code -l --len-form -f --file -s --sse -i --id -e --event --retry" ;;
    handshake)
        case "$prev" in
        --response|-R)
            COMPREPLY=()
            val=1 ;;
        --subprotocol|-p)
            COMPREPLY=()
            val=1 ;;
        --extension|-e)
            COMPREPLY=()
            val=1 ;;
        --header|-H)
            COMPREPLY=()
            val=1 ;;
        --origin )
            COMPREPLY=()
            val=1 ;;
        --cacert )
            COMPREPLY=($(compgen -f -- "$cur"))
            val=1 ;;
        esac
        opts="-h --help -v --verbose -q --quiet -g --gen-key -r --request -R --response -p --subprotocol -e --extension -j --json --lenient -H --header --origin --cacert -k --insecure" ;;
    portcheck)
        case "$prev" in
        --target|-t)
            COMPREPLY=()
            val=1 ;;
        --connections|-n)
            COMPREPLY=()
            val=1 ;;
        --source|-s)
            COMPREPLY=()
            val=1 ;;
        --ws )
            COMPREPLY=()
            val=1 ;;
        --hold )
            COMPREPLY=()
            val=1 ;;
        --rate|-r)
            COMPREPLY=()
            val=1 ;;
        --parallel|-p)
            COMPREPLY=()
            val=1 ;;
        --timeout )
            COMPREPLY=()
            val=1 ;;
        esac
        opts="-h --help -v --verbose -q --quiet --json -t --target --server -n --connections -s --source --ws --hold -r --rate -p --parallel --timeout" ;;
    replay)
        case "$prev" in
        --speed )
            COMPREPLY=()
            val=1 ;;
        --wait )
            COMPREPLY=()
            val=1 ;;
        --max-diffs )
            COMPREPLY=()
            val=1 ;;
        --serve )
            COMPREPLY=()
            val=1 ;;
        --channel )
            COMPREPLY=()
            val=1 ;;
        --backlog )
            COMPREPLY=()
            val=1 ;;
        --max-line )
            COMPREPLY=()
            val=1 ;;
        --connect-timeout )
            COMPREPLY=()
            val=1 ;;
        --cacert )
            COMPREPLY=($(compgen -f -- "$cur"))
            val=1 ;;
        esac
        opts="-h --help -v --verbose -q --quiet --speed --no-delay --expect --wait --max-diffs --serve --channel --backlog --max-line --connect-timeout --cacert -k --insecure" ;;
    serve)
        case "$prev" in
        --listen|-l)
            COMPREPLY=()
            val=1 ;;
        --tls-cert )
            COMPREPLY=($(compgen -f -- "$cur"))
            val=1 ;;
        --tls-key )
            COMPREPLY=($(compgen -f -- "$cur"))
            val=1 ;;
        --channel|-c)
            COMPREPLY=()
            val=1 ;;
        --backlog )
            COMPREPLY=()
            val=1 ;;
        --history-bytes )
            COMPREPLY=()
            val=1 ;;
        --message-ttl )
            COMPREPLY=()
            val=1 ;;
        --max-channels )
            COMPREPLY=()
            val=1 ;;
        --heartbeat )
            COMPREPLY=()
            val=1 ;;
        --retry )
            COMPREPLY=()
            val=1 ;;
        --poll-timeout )
            COMPREPLY=()
            val=1 ;;
        --ping )
            COMPREPLY=()
            val=1 ;;
        --max-message )
            COMPREPLY=()
            val=1 ;;
        --max-conns )
            COMPREPLY=()
            val=1 ;;
        --max-header-size )
            COMPREPLY=()
            val=1 ;;
        --max-headers )
            COMPREPLY=()
            val=1 ;;
        --send-buffer )
            COMPREPLY=()
            val=1 ;;
        --write-delay )
            COMPREPLY=()
            val=1 ;;
        --deflate-window )
            COMPREPLY=()
            val=1 ;;
        --handshake-timeout )
            COMPREPLY=()
            val=1 ;;
        --idle-timeout )
            COMPREPLY=()
            val=1 ;;
        --drain )
            COMPREPLY=()
            val=1 ;;
        --log )
            COMPREPLY=($(compgen -W "text json" -- "$cur"))
            val=1 ;;
        --log-file )
            COMPREPLY=($(compgen -f -- "$cur"))
            val=1 ;;
        --record )
            COMPREPLY=($(compgen -f -- "$cur"))
            val=1 ;;
        --redis )
            COMPREPLY=()
            val=1 ;;
        --token-file )
            COMPREPLY=($(compgen -f -- "$cur"))
            val=1 ;;
        --publish-token-file )
            COMPREPLY=($(compgen -f -- "$cur"))
            val=1 ;;
        --jwt-key )
            COMPREPLY=($(compgen -f -- "$cur"))
            val=1 ;;
        --jwt-aud )
            COMPREPLY=()
            val=1 ;;
        --origin )
            COMPREPLY=()
            val=1 ;;
        --trusted-proxy )
            COMPREPLY=()
            val=1 ;;
        --max-conns-per-ip )
            COMPREPLY=()
            val=1 ;;
        --max-conn-rate )
            COMPREPLY=()
            val=1 ;;
        --max-pub-rate )
            COMPREPLY=()
            val=1 ;;
        --limit-exempt )
            COMPREPLY=()
            val=1 ;;
        --exec )
            COMPREPLY=()
            val=1 ;;
        --max-procs )
            COMPREPLY=()
            val=1 ;;
        --exec-grace )
            COMPREPLY=()
            val=1 ;;
        --workers )
            COMPREPLY=($(compgen -W "auto" -- "$cur"))
            val=1 ;;
        esac
        opts="-h --help -v --verbose -q --quiet -l --listen --tls-cert --tls-key -c --channel --stdin --echo --read-only --backlog --history-bytes --message-ttl --max-channels --metrics-per-channel --heartbeat --retry --poll-timeout --ping --max-message --max-conns --max-header-size --max-headers --send-buffer --write-delay --write-delay-adaptive --deflate-context --deflate-window --handshake-timeout --idle-timeout --drain --log --log-file --record --redis --token-file --publish-token-file --jwt-key --jwt-aud --origin --trusted-proxy --max-conns-per-ip --max-conn-rate --max-pub-rate --limit-exempt --exec --max-procs --exec-grace --workers" ;;
    *) return ;;
    esac
    if [ -n "$val" ]; then
        :
    elif [ -n "$eq" ]; then
        COMPREPLY=() # a flag has no value; an unknown option, none to offer
    elif [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    else
        COMPREPLY=($(compgen -f -- "$cur"))
    fi
    for r in "${!COMPREPLY[@]}"; do
        COMPREPLY[r]=$pre${COMPREPLY[r]}
    done
    (( i ))
}
complete -F _pushwire pushwire pushwire-connect pushwire-frame pushwire-handshake pushwire-portcheck pushwire-replay pushwire-serve
