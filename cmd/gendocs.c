#include "gendocs.h"

#include <stdio.h>
#include <string.h>

/* mdoc text: escape backslashes, keep a leading '.' or '\'' from being
 * read as a request, and write a character past ASCII as \[uXXXX]: groff
 * reads a page as Latin-1 unless preconv runs first ("invalid input
 * character"), mandoc and groff both know the escape. */
static void mdoc_text(const char *s)
{
    if (*s == '.' || *s == '\'')
        fputs("\\&", stdout);
    for (; *s; s++) {
        const unsigned char *u = (const unsigned char *)s;
        int n = u[0] >= 0xf5 ? 0 : u[0] >= 0xf0 ? 3 : u[0] >= 0xe0 ? 2 : u[0] >= 0xc2 ? 1 : 0;
        unsigned long cp = n == 3 ? u[0] & 0x07u : n == 2 ? u[0] & 0x0fu : u[0] & 0x1fu;
        int ok = n > 0;
        for (int i = 1; ok && i <= n; i++) {
            ok = (u[i] & 0xc0) == 0x80;
            cp = cp << 6 | (u[i] & 0x3fu);
        }
        if (ok && cp >= (n == 3 ? 0x10000ul : n == 2 ? 0x800ul : 0x80ul) && cp <= 0x10ffff &&
            (cp < 0xd800 || cp > 0xdfff)) {
            printf("\\[u%04lX]", cp);
            s += n;
        } else if (*s == '\\')
            fputs("\\e", stdout);
        else
            putchar(*s);
    }
}

static void mdoc_optname(const struct pw_opt *o)
{
    if (o->shrt)
        printf("Fl %c , ", o->shrt);
    printf("Fl \\-%s", o->lng);
    if (o->v.arg == PW_REQARG)
        printf(" Ar %s", o->v.argname);
    else if (o->v.arg == PW_OPTARG)
        printf(" Ns Op = Ns Ar %s", o->v.argname);
}

/* Plain text lines ('\n'-separated) as mdoc text lines. */
static void mdoc_lines(const char *s)
{
    while (*s) {
        size_t l = strcspn(s, "\n");
        char line[256];
        snprintf(line, sizeof line, "%.*s", (int)(l < sizeof line ? l : sizeof line - 1), s);
        mdoc_text(line);
        printf("\n");
        s += l;
        if (*s)
            s++;
    }
}

static void gen_mdoc_options(const struct pw_applet *a)
{
    /* how sizes and durations are written, where the applet takes them;
     * the text starts with the argument name, which mdoc marks up */
    unsigned t = pw_opt_types(a);
    const char *para[3];
    size_t np = 0;
    if (t & (1u << PW_T_BYTES))
        para[np++] = pw_opt_grammar_bytes;
    if (t & (1u << PW_T_SECS))
        para[np++] = pw_opt_grammar_secs;
    if (t & ~(1u << PW_T_FLAG | 1u << PW_T_STR))
        para[np++] = "A value that does not parse or is out of range is refused with exit status 2.\n";
    for (size_t i = 0; i < np; i++) {
        size_t w = strcspn(para[i], " ");
        if (i)
            printf(".Pp\n");
        if (strncmp(para[i], "BYTES ", 6) == 0 || strncmp(para[i], "SECS ", 5) == 0) {
            printf(".Ar %.*s\n", (int)w, para[i]);
            mdoc_lines(para[i] + w + 1);
        } else {
            mdoc_lines(para[i]);
        }
    }
    printf(".Bl -tag -width Ds\n");
    for (size_t i = 0; a->opts[i].lng; i++) {
        char doc[512];
        printf(".It ");
        mdoc_optname(&a->opts[i]);
        printf("\n");
        mdoc_text(pw_opt_doc(&a->opts[i], doc, sizeof doc));
        printf(".\n");
    }
    printf(".El\n");
}

static void gen_mdoc_synopsis(const struct pw_applet *a)
{
    const char *s = a->synopsis;
    while (*s) {
        size_t l = strcspn(s, "\n");
        printf(".Nm pushwire %s\n", a->name);
        /* the synopsis line is shown literally, one .Li per line */
        printf(".Li ");
        for (size_t i = 0; i < l; i++) {
            if (s[i] == '\\')
                fputs("\\e", stdout);
            else if (s[i] == '-' )
                fputs("\\-", stdout);
            else
                putchar(s[i]);
        }
        printf("\n");
        s += l;
        if (*s) {
            s++;
            printf(".br\n");
        }
    }
}

static void words(const struct pw_applet *a, int with_short)
{
    for (size_t i = 0; a->opts[i].lng; i++) {
        if (with_short && a->opts[i].shrt)
            printf("-%c ", a->opts[i].shrt);
        printf("--%s%s", a->opts[i].lng, a->opts[i + 1].lng ? " " : "");
    }
}

/* The bash action for an option's value (cur is what is typed of it). */
static void bash_value(const struct pw_opt *o, const char *indent)
{
    if (o->v.compl && strcmp(o->v.compl, "@file") == 0)
        printf("%sCOMPREPLY=($(compgen -f -- \"$cur\"))", indent);
    else if (o->v.compl && strcmp(o->v.compl, "@dir") == 0)
        printf("%sCOMPREPLY=($(compgen -d -- \"$cur\"))", indent);
    else if (o->v.compl)
        printf("%sCOMPREPLY=($(compgen -W \"%s\" -- \"$cur\"))", indent, o->v.compl);
    else
        printf("%sCOMPREPLY=()", indent);
}

static void gen_bash(const struct pw_applet *const *as, size_t n)
{
    printf("# bash completion for pushwire — generated from the option tables by\n"
           "# tools/gendocs.sh; do not edit.\n"
           "_pushwire()\n{\n"
           "    local cur prev applet opts eq= pre= val= r i=1\n"
           "    cur=${COMP_WORDS[COMP_CWORD]}\n"
           "    prev=${COMP_WORDS[COMP_CWORD-1]}\n"
           "    # --opt=VALUE: with '=' in COMP_WORDBREAKS (the default) bash makes\n"
           "    # '=' a word, and the current one is '=' itself or what follows it;\n"
           "    # without, the word is --opt=VALUE whole and each reply carries --opt=\n"
           "    if [[ $cur == = && $prev == -* ]]; then\n"
           "        cur= eq=1\n"
           "    elif [[ $prev == = && $COMP_CWORD -ge 2 ]]; then\n"
           "        prev=${COMP_WORDS[COMP_CWORD-2]} eq=1\n"
           "    elif [[ $cur == --*=* ]]; then\n"
           "        prev=${cur%%%%=*} cur=${cur#*=} eq=1\n"
           "        pre=$prev=\n"
           "    fi\n"
           "    applet=${COMP_WORDS[0]##*/}\n"
           "    applet=${applet#pushwire-}\n"
           "    if [ \"$applet\" = pushwire ]; then\n"
           "        if [ \"$COMP_CWORD\" -eq 1 ]; then\n"
           "            COMPREPLY=($(compgen -W \"help --help --version");
    for (size_t i = 0; i < n; i++)
        printf(" %s", as[i]->name);
    printf("\" -- \"$cur\"))\n"
           "            return\n"
           "        fi\n"
           "        applet=${COMP_WORDS[1]}\n"
           "    fi\n"
           "    case \"$applet\" in\n"
           "    help)\n        COMPREPLY=($(compgen -W \"");
    for (size_t i = 0; i < n; i++)
        printf("%s%s", as[i]->name, i + 1 < n ? " " : "");
    printf("\" -- \"$cur\"))\n        return ;;\n");
    for (size_t i = 0; i < n; i++) {
        const struct pw_applet *a = as[i];
        printf("    %s)\n        case \"$prev\" in\n", a->name);
        for (size_t j = 0; a->opts[j].lng; j++) {
            const struct pw_opt *o = &a->opts[j];
            if (o->v.arg == PW_REQARG) {
                printf("        --%s%s%c)\n", o->lng, o->shrt ? "|-" : "", o->shrt ? o->shrt : ' ');
                bash_value(o, "            ");
                printf("\n            val=1 ;;\n");
            } else if (o->v.arg == PW_OPTARG) { /* a value only after '=' */
                printf("        --%s)\n            if [ -n \"$eq\" ]; then\n", o->lng);
                bash_value(o, "                ");
                printf("\n                val=1\n            fi ;;\n");
            }
        }
        printf("        esac\n        opts=\"");
        words(a, 1);
        printf("\" ;;\n");
    }
    printf("    *) return ;;\n    esac\n"
           "    if [ -n \"$val\" ]; then\n"
           "        :\n"
           "    elif [ -n \"$eq\" ]; then\n"
           "        COMPREPLY=() # a flag has no value; an unknown option, none to offer\n"
           "    elif [[ \"$cur\" == -* ]]; then\n"
           "        COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
           "    else\n"
           "        COMPREPLY=($(compgen -f -- \"$cur\"))\n"
           "    fi\n"
           "    for r in \"${!COMPREPLY[@]}\"; do\n"
           "        COMPREPLY[r]=$pre${COMPREPLY[r]}\n"
           "    done\n"
           "    (( i ))\n"
           "}\n"
           "complete -F _pushwire pushwire");
    for (size_t i = 0; i < n; i++)
        printf(" pushwire-%s", as[i]->name);
    printf("\n");
}

static void zsh_quote(const char *s)
{
    for (; *s; s++) {
        if (*s == '\'')
            fputs("'\\''", stdout);
        else if (*s == '[' || *s == ']' || *s == ':')
            printf("\\%c", *s);
        else
            putchar(*s);
    }
}

static void gen_zsh(const struct pw_applet *const *as, size_t n)
{
    printf("#compdef pushwire");
    for (size_t i = 0; i < n; i++)
        printf(" pushwire-%s", as[i]->name);
    printf("\n# zsh completion for pushwire — generated from the option tables by\n"
           "# tools/gendocs.sh; do not edit.\n\n");
    for (size_t i = 0; i < n; i++) {
        const struct pw_applet *a = as[i];
        printf("_pushwire_%s() {\n    _arguments -s \\\n", a->name);
        for (size_t j = 0; a->opts[j].lng; j++) {
            const struct pw_opt *o = &a->opts[j];
            const char *act = "";
            char buf[512];
            if (o->v.arg != PW_NOARG) {
                if (o->v.compl && strcmp(o->v.compl, "@file") == 0)
                    act = "_files";
                else if (o->v.compl && strcmp(o->v.compl, "@dir") == 0)
                    act = "_files -/";
                else if (o->v.compl) {
                    snprintf(buf, sizeof buf, "(%s)", o->v.compl);
                    act = buf;
                }
            }
            const char *eq = o->v.arg == PW_OPTARG ? "=-" : o->v.arg == PW_REQARG ? "=" : "";
            /* an option its help calls repeatable is offered again after
             * it was given ('*'); any other once, its short and long
             * forms excluding each other */
            int rep = o->help && strstr(o->help, "repeatable") != NULL;
            printf("        '");
            if (o->shrt && rep)
                printf("*'{-%c,--%s%s}'", o->shrt, o->lng, eq);
            else if (o->shrt)
                printf("(-%c --%s)'{-%c,--%s%s}'", o->shrt, o->lng, o->shrt, o->lng, eq);
            else
                printf("%s--%s%s", rep ? "*" : "", o->lng, eq);
            char doc[512];
            printf("[");
            zsh_quote(pw_opt_doc(o, doc, sizeof doc));
            printf("]");
            if (o->v.arg != PW_NOARG) {
                /* the message too: ADDR:PORT has a colon, 'NAME: VALUE'
                 * quotes and a space */
                printf(":");
                zsh_quote(o->v.argname);
                printf(":%s", act);
            }
            printf("' \\\n");
        }
        printf("        '*:argument:_files'\n}\n\n");
    }
    printf("_pushwire() {\n    local applet=${service#pushwire-}\n"
           "    if [[ $applet == pushwire ]]; then\n"
           "        if (( CURRENT == 2 )); then\n"
           "            local -a applets=(\n");
    for (size_t i = 0; i < n; i++) {
        printf("                '%s:", as[i]->name);
        zsh_quote(as[i]->summary);
        printf("'\n");
    }
    printf("                'help:show help for an applet'\n"
           "            )\n"
           "            _describe applet applets\n"
           "            return\n"
           "        fi\n"
           "        applet=${words[2]}\n"
           "        shift words\n"
           "        (( CURRENT-- ))\n"
           "    fi\n"
           "    case $applet in\n");
    for (size_t i = 0; i < n; i++)
        printf("    %s) _pushwire_%s ;;\n", as[i]->name, as[i]->name);
    printf("    help) _values applet");
    for (size_t i = 0; i < n; i++)
        printf(" %s", as[i]->name);
    printf(" ;;\n    esac\n}\n\n_pushwire \"$@\"\n");
}

static void fish_quote(const char *s)
{
    putchar('\'');
    for (; *s; s++) {
        if (*s == '\'' || *s == '\\')
            putchar('\\');
        putchar(*s);
    }
    putchar('\'');
}

static void gen_fish(const struct pw_applet *const *as, size_t n)
{
    printf("# fish completion for pushwire — generated from the option tables by\n"
           "# tools/gendocs.sh; do not edit.\n"
           "complete -c pushwire -f\n"
           "set -l __pw_applets");
    for (size_t i = 0; i < n; i++)
        printf(" %s", as[i]->name);
    printf("\ncomplete -c pushwire -n \"not __fish_seen_subcommand_from $__pw_applets help\" "
           "-a help -d 'show help for an applet'\n"
           "complete -c pushwire -n \"__fish_seen_subcommand_from help\" -a \"$__pw_applets\"\n"
           "complete -c pushwire -n \"not __fish_seen_subcommand_from $__pw_applets help\" "
           "-l version -d 'print the version'\n");
    for (size_t i = 0; i < n; i++) {
        const struct pw_applet *a = as[i];
        printf("complete -c pushwire -n \"not __fish_seen_subcommand_from $__pw_applets help\" "
               "-a %s -d ",
               a->name);
        fish_quote(a->summary);
        printf("\n");
        for (size_t j = 0; a->opts[j].lng; j++) {
            const struct pw_opt *o = &a->opts[j];
            for (int link = 0; link < 2; link++) {
                if (link)
                    printf("complete -c pushwire-%s", a->name);
                else
                    printf("complete -c pushwire -n \"__fish_seen_subcommand_from %s\"", a->name);
                if (o->shrt)
                    printf(" -s %c", o->shrt);
                printf(" -l %s", o->lng);
                if (o->v.arg != PW_NOARG) {
                    if (o->v.compl && strcmp(o->v.compl, "@file") == 0)
                        printf(" -r -F");
                    else if (o->v.compl && strcmp(o->v.compl, "@dir") == 0)
                        printf(" -r -a '(__fish_complete_directories)'");
                    else if (o->v.compl)
                        printf(" -x -a '%s'", o->v.compl);
                    else
                        printf(" -x");
                }
                char doc[512];
                printf(" -d ");
                fish_quote(pw_opt_doc(o, doc, sizeof doc));
                printf("\n");
            }
        }
    }
}

/* Every table's defaults and bounds parse and agree (docs.bats runs it). */
static int gen_check(const struct pw_applet *const *as, size_t n)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        char err[256];
        if (pw_opt_check(as[i], err, sizeof err)) {
            fprintf(stderr, "pushwire %s: option table: %s\n", as[i]->name, err);
            bad = 1;
        }
    }
    return bad ? PW_EXIT_FAIL : 0;
}

int pw_gendocs(const char *fmt, const char *name)
{
    size_t n;
    const struct pw_applet *const *as = pw_applet_list(&n);
    const struct pw_applet *a = NULL;
    for (size_t i = 0; name && i < n; i++)
        if (strcmp(as[i]->name, name) == 0)
            a = as[i];
    if (strcmp(fmt, "bash") == 0)
        gen_bash(as, n);
    else if (strcmp(fmt, "zsh") == 0)
        gen_zsh(as, n);
    else if (strcmp(fmt, "fish") == 0)
        gen_fish(as, n);
    else if (strcmp(fmt, "applets") == 0)
        for (size_t i = 0; i < n; i++)
            printf("%s\n", as[i]->name);
    else if (strcmp(fmt, "check") == 0)
        return gen_check(as, n);
    else if (strcmp(fmt, "options") != 0 && strcmp(fmt, "mdoc-options") != 0 &&
             strcmp(fmt, "mdoc-synopsis") != 0) {
        fprintf(stderr, "pushwire help: unknown generator '%s'\n", fmt);
        return PW_EXIT_USAGE;
    } else if (!a) {
        if (name)
            fprintf(stderr, "pushwire help: '%s' is not an applet; see 'pushwire --help'\n", name);
        else
            fprintf(stderr, "pushwire help: --gen=%s needs an applet name\n", fmt);
        return PW_EXIT_USAGE;
    } else if (strcmp(fmt, "mdoc-options") == 0)
        gen_mdoc_options(a);
    else if (strcmp(fmt, "mdoc-synopsis") == 0)
        gen_mdoc_synopsis(a);
    else
        for (size_t i = 0; a->opts[i].lng; i++)
            printf("--%s\n", a->opts[i].lng);
    return pw_finish_stdout("help", 0);
}
