/* applets.h — the one list of applets.  Each X(name) has a file cmd/name.c
 * that defines `const struct pw_applet pw_applet_name`.  Add a line here and
 * the dispatcher, `pushwire --help`, install-links and the docs generator
 * pick it up. */
#ifndef PW_APPLETS_H
#define PW_APPLETS_H

/* keep alphabetical, one line each, every line ending in a backslash */
#define PW_APPLETS(X) \
    X(connect) \
    X(frame) \
    X(handshake) \
    X(portcheck) \
    X(replay) \
    X(serve) \


#endif
