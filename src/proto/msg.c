/* msg.c — messages and the rules for channel and event names (msg.h). */
#include "msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- messages ---- */

struct pw_msg *pw_msg_new(const char *channel, size_t chlen, const char *event,
                          const void *data, size_t len, int binary)
{
    if (!event || !*event)
        event = "message";
    size_t evlen = strlen(event);
    if (chlen > PW_CHANNEL_MAX || evlen > PW_EVENT_MAX)
        return NULL;
    size_t sz = sizeof(struct pw_msg) + len + 1 + PW_ID_MAX + evlen + 1 + chlen + 1;
    struct pw_msg *m = malloc(sz);
    if (!m)
        return NULL;
    memset(m, 0, sizeof *m);
    m->refs = 1;
    m->binary = binary ? 1 : 0;
    m->len = len;
    if (len)
        memcpy(m->data, data, len);
    m->data[len] = 0;
    char *p = (char *)m->data + len + 1;
    m->id = p;
    p[0] = 0;
    p += PW_ID_MAX;
    memcpy(p, event, evlen + 1);
    m->event = p;
    m->event_len = (uint8_t)evlen;
    p += evlen + 1;
    memcpy(p, channel, chlen);
    p[chlen] = 0;
    m->channel = p;
    m->channel_len = (uint8_t)chlen;
    return m;
}

void pw_msg_unref(struct pw_msg *m)
{
    if (!m || --m->refs)
        return;
    for (int i = 0; i < PW_MSG_NENC; i++)
        free(m->enc[i].p);
    free(m);
}

int pw_msg_set_id(struct pw_msg *m, const struct pw_msgid *id)
{
    char t[PW_ID_MAX];
    size_t n = pw_msgid_format(t, id);
    if (!n)
        return PW_EINVAL;
    memcpy((char *)m->id, t, n + 1);
    m->id_len = (uint8_t)n;
    m->ms = id->ms;
    m->seq = id->seq;
    return 0;
}

int pw_channel_valid(const char *s, size_t len)
{
    if (len < 1 || len > PW_CHANNEL_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '~' || c == '-'))
            return 0;
    }
    return 1;
}

int pw_event_valid(const char *s, size_t len)
{
    if (len < 1 || len > PW_EVENT_MAX)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (s[i] == '\r' || s[i] == '\n' || s[i] == 0)
            return 0;
    return 1;
}

