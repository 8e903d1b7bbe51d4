# examples.awk — (docs.bats) the examples of a man page (EXAMPLES, .Bd -literal) or of
# README.md (```sh blocks) whose output the text shows: for each, the command
# (a line starting "$ ", with its continuation lines: after a trailing \ or |)
# and the lines shown after it, up to the next command or the block's end.
# Prints each as COMMAND \037 OUTPUT \036; examples with no output shown are
# left out.
function unesc(s) {
    if (!man) return s
    gsub(/\\\(sc/, "§", s); gsub(/\\&/, "", s); gsub(/\\-/, "-", s); gsub(/\\e/, "\\", s)
    return s
}
function flush() {
    if (cmd != "" && out != "") printf "%s\037%s\036", cmd, out
    cmd = ""; out = ""; cont = 0
}
FNR == 1 { man = FILENAME ~ /\.[1-9]$/ }
man && /^\.Sh / { sec = $2; next }
man && sec == "EXAMPLES" && /^\.Bd -literal/ { inb = 1; next }
!man && /^```sh$/ { inb = 1; next }
inb && ((man && /^\.Ed/) || (!man && /^```$/)) { flush(); inb = 0; next }
inb {
    l = unesc($0)
    if (cont) { cmd = cmd "\n" l }
    else if (l ~ /^\$ /) { flush(); cmd = substr(l, 3) }
    else if (cmd != "") { out = out (out == "" ? "" : "\n") l }
    cont = (cmd != "" && out == "" && l ~ /(\\|\|)[ \t]*$/)
}
END { flush() }
