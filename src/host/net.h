/* net.h — network and I/O for the server and the client: listen addresses,
 * and the error codes of the -600..-699 range (serve: -600..-649; the
 * client adds its own at the end of the list, -650..-699).
 */
#ifndef PW_NET_H
#define PW_NET_H

#include <stddef.h>
#include <sys/socket.h>

#include "proto/pw_errio.h"


/* Parses "HOST:PORT" (IPv4 literal or "localhost") or "[IPv6]:PORT" into a
 * numeric sockaddr; port 0 asks the kernel for a free port.  No name
 * resolution beyond "localhost" (a listen address is a literal).
 * 0 or PW_ENET_ADDR. */
int pw_net_parse_listen(const char *s, struct sockaddr_storage *out);
/* 1 if listen address s asks for TLS ("tls://HOST:PORT"), 0 if not; *addr
 * is s past the scheme either way. */
int pw_net_listen_tls(const char *s, const char **addr);
/* "127.0.0.1:8080" / "[::1]:8080" into out (NUL-terminated); 0 or PW_EINVAL. */
int pw_net_format_addr(const struct sockaddr *sa, char *out, size_t outsz);

#endif
