/* test_keyring.c — serve's token files and JWT keys (keyring.h): several
 * tokens a file, comments, the bounds and their messages, the mode rule,
 * matching in the right kind, keys known again across sets, the most
 * telling JWT error with several keys, and SIGHUP read once for every
 * worker, all or nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "proto/base64.h"
#include "proto/buf.h"
#include "server/keyring.h"
#include "tap.h"

static char dir[64];

static const char *file(const char *name, const char *text, int mode)
{
    static char path[8][128];
    static int k;
    char *p = path[k++ % 8];
    snprintf(p, 128, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    chmod(p, (mode_t)mode);
    return p;
}

static struct pw_keyset *fresh(void)
{
    struct pw_keyset *ks = pw_keyset_new();
    if (!ks)
        abort();
    return ks;
}

/* An HS256 JWT of payload with secret. */
static char *hs256(const char *secret, const char *payload)
{
    struct pw_buf b, s;
    pw_buf_init(&b, 0);
    pw_buf_init(&s, 0);
    const char *h = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    pw_base64url_append(&b, h, strlen(h));
    pw_buf_append(&b, ".", 1);
    pw_base64url_append(&b, payload, strlen(payload));
    uint8_t mac[32];
    unsigned ml = 0;
    HMAC(EVP_sha256(), secret, (int)strlen(secret), b.p, b.len, mac, &ml);
    pw_buf_append(&b, ".", 1);
    pw_base64url_append(&b, mac, ml);
    pw_buf_append(&b, "", 1);
    char *out = strdup((char *)b.p);
    pw_buf_free(&b);
    pw_buf_free(&s);
    return out;
}

/* A key file renamed over between its read and its mode check: while
 * swap_from is set, the next read(2) that returns bytes then renames
 * swap_from to swap_path, as a process with the directory may.  The
 * keyring must judge the mode of the file it read. */
static const char *swap_from, *swap_path;

ssize_t read(int fd, void *buf, size_t n)
{
    ssize_t r = syscall(SYS_read, fd, buf, n);
    if (swap_from && r > 0) {
        rename(swap_from, swap_path);
        swap_from = NULL;
    }
    return r;
}

#define S1 "hs256-secret-number-one-of-32-bytes-or-more"
#define S2 "hs256-secret-number-two-of-32-bytes-or-more"

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/test_keyring.XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    struct pw_kr_why why;
    struct pw_keyset *ks = fresh();

    /* ---- token files ---- */
    const char *f = file("tok", "# comment\n\nalpha-token\r\nbeta-token\n", 0600);
    IS(pw_keyring_read(f, PW_KR_SUB, ks, &why), 0, "read: comments, blank lines, CR LF");
    IS(ks->n, 2, "read: two tokens");
    IS(ks->nsub, 2, "read: counted as subscribe tokens");
    OK(pw_keyset_token(ks, "alpha-token", 11, 0) == 0, "token: the first matches");
    OK(pw_keyset_token(ks, "beta-token", 10, PW_KR_SUB) == 1, "token: the second matches, by kind");
    OK(pw_keyset_token(ks, "beta-token", 10, PW_KR_PUB) == -1, "token: not as another kind");
    OK(pw_keyset_token(ks, "# comment", 9, 0) == -1, "token: a comment is no token");
    OK(pw_keyset_token(ks, "beta-token\r", 11, 0) == -1, "token: the CR is not part of it");
    f = file("pub", "gamma-token", 0600);
    IS(pw_keyring_read(f, PW_KR_PUB, ks, &why), 0, "read: no final newline");
    IS(ks->npub, 1, "read: one publish token");
    OK(pw_keyset_token(ks, "gamma-token", 11, PW_KR_PUB) == 2, "token: the publish token after the others");
    pw_keyset_unref(ks);

    ks = fresh();
    f = file("tok", "good-token\ntwo words\n", 0600);
    OK(pw_keyring_read(f, PW_KR_SUB, ks, &why) == -1 && strstr(why.what, "line 2 is not a token"),
       "bad line: says which (%s)", why.what);
    IS(ks->n, 0, "bad line: nothing of the file is kept");
    char big[5000];
    memset(big, 'a', 4097);
    strcpy(big + 4097, "\n");
    f = file("tok", big, 0600);
    OK(pw_keyring_read(f, PW_KR_SUB, ks, &why) == -1 && strstr(why.what, "line 1 is longer than 4096 bytes"),
       "long line: %s", why.what);
    big[4096] = '\n';
    big[4097] = 0;
    f = file("tok", big, 0600);
    IS(pw_keyring_read(f, PW_KR_SUB, ks, &why), 0, "a 4096-byte token is taken");
    pw_keyset_unref(ks);
    ks = fresh();
    char many[1024] = "";
    for (int i = 0; i < 17; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "token-%02d\n", i);
    f = file("tok", many, 0600);
    OK(pw_keyring_read(f, PW_KR_SUB, ks, &why) == -1 && strstr(why.what, "more than 16 tokens (line 17)"),
       "17 tokens: %s", why.what);
    *strstr(many, "token-16") = 0;
    f = file("tok", many, 0600);
    IS(pw_keyring_read(f, PW_KR_SUB, ks, &why), 0, "16 tokens are taken");
    IS(ks->nsub, 16, "16 counted");
    pw_keyset_unref(ks);
    ks = fresh();
    f = file("tok", "# nothing\n\n", 0600);
    OK(pw_keyring_read(f, PW_KR_SUB, ks, &why) == -1 && strstr(why.what, "holding no token"), "empty: %s", why.what);
    f = file("tok", "a-token\n", 0644);
    OK(pw_keyring_read(f, PW_KR_SUB, ks, &why) == -1 && strstr(why.what, "open to every user (mode 0644)") &&
           strstr(why.want, "chmod o="),
       "mode: %s", why.what);
    f = file("tok", "a-token\n", 0640);
    IS(pw_keyring_read(f, PW_KR_SUB, ks, &why), 0, "mode 0640 is private enough");
    pw_keyset_unref(ks);

    /* ---- keys ---- */
    ks = fresh();
    swap_path = file("open.key", S1, 0644);
    swap_from = file("private.key", S2, 0600);
    OK(pw_keyring_read(swap_path, PW_KR_JWT, ks, &why) == -1 &&
           strstr(why.what, "an HS256 secret open to every user (mode 0644)"),
       "mode of the key read, not of the file renamed over it after: %s", why.what);
    OK(!swap_from && ks->n == 0, "renamed after the read, and nothing kept");
    unlink(swap_path);
    pw_keyset_unref(ks);
    ks = fresh();
    const char *k1 = file("k1", S1 "\n", 0600), *k2 = file("k2", S2, 0600);
    IS(pw_keyring_read(k1, PW_KR_JWT, ks, &why), 0, "key: HS256");
    IS(pw_keyring_read(k2, PW_KR_JWT, ks, &why), 0, "key: another HS256");
    IS(ks->nkeys, 2, "two keys");
    OK(pw_keyring_read(file("k3", S1, 0604), PW_KR_JWT, ks, &why) == -1 && strstr(why.what, "open to every user"),
       "key: a world-readable secret (%s)", why.what);
    OK(pw_keyring_read(file("k4", "short", 0600), PW_KR_JWT, ks, &why) == -1 && strstr(why.what, "shorter than 32"),
       "key: too short (%s)", why.what);
    struct pw_jwt j;
    int idx = -1;
    char *t = hs256(S2, "{\"pushwire\":{\"subscribe\":[\"*\"]}}");
    IS(pw_keyset_jwt(ks, t, strlen(t), 1e9, NULL, &j, &idx), 0, "jwt: the second key verifies");
    IS(idx, 1, "jwt: and says which");
    pw_jwt_free(&j);
    free(t);
    t = hs256(S1, "{\"exp\":10}");
    IS(pw_keyset_jwt(ks, t, strlen(t), 1e9, NULL, &j, &idx), PW_EJWT_EXPIRED, "jwt: expired, not bad signature");
    free(t);
    t = hs256("another-secret-nobody-configured-here", "{}");
    IS(pw_keyset_jwt(ks, t, strlen(t), 1e9, NULL, &j, &idx), PW_EJWT_SIG, "jwt: no key: bad signature");
    free(t);
    /* a key is known again in another set, whatever its file's newline */
    struct pw_keyset *ks2 = fresh();
    IS(pw_keyring_read(file("k5", S2 "\r\n", 0600), PW_KR_JWT, ks2, &why), 0, "key: with CR LF");
    IS(pw_keyset_find(ks2, &ks->c[1]), 0, "find: the same key");
    IS(pw_keyset_find(ks2, &ks->c[0]), -1, "find: not another");
    pw_keyset_unref(ks2);
    pw_keyset_unref(ks);

    /* ---- the keyring: load, SIGHUP ---- */
    struct pw_keyring kr;
    char err[512];
    pw_keyring_init(&kr);
    /* the keyring keeps the paths: copies, file() reuses its buffers */
    char *tok = strdup(file("rtok", "one-token\n", 0600)), *pub = strdup(file("rpub", "pub-token\n", 0600));
    char *key1 = strdup(k1);
    pw_keyring_file(&kr, PW_KR_SUB, tok);
    pw_keyring_file(&kr, PW_KR_PUB, pub);
    IS(pw_keyring_file(&kr, PW_KR_JWT, key1), 0, "file: a key");
    for (int i = 1; i < PW_KR_KEYS_MAX; i++)
        pw_keyring_file(&kr, PW_KR_JWT, key1);
    IS(pw_keyring_file(&kr, PW_KR_JWT, key1), -1, "file: a ninth key is refused");
    kr.njwt = 1;
    IS(pw_keyring_start(&kr, err, sizeof err), 0, "start");
    struct pw_keyset *w0 = pw_keyring_get(&kr), *w1 = pw_keyring_get(&kr), *o0, *o1;
    uint64_t seen0 = 0, seen1 = 0;
    file("rtok", "new-token\n", 0600);
    IS(pw_keyring_hup(&kr, &seen0, &o0, err, sizeof err), 1, "hup: the first worker reads");
    STREQ(err, "", "hup: and succeeds");
    IS(pw_keyring_hup(&kr, &seen1, &o1, err, sizeof err), 0, "hup: the second does not read again");
    OK(o0 == o1 && o0 != w0, "hup: both have the new set");
    OK(pw_keyset_token(o1, "new-token", 9, PW_KR_SUB) >= 0 && pw_keyset_token(o1, "one-token", 9, 0) < 0,
       "hup: the new token in, the old out");
    pw_keyset_unref(w0);
    pw_keyset_unref(w1);
    file("rpub", "new-token\n", 0600);
    IS(pw_keyring_hup(&kr, &seen0, &w0, err, sizeof err), 1, "hup 2: read");
    OK(strstr(err, "hold the same token") != NULL, "hup 2: the same token in both files: %s", err);
    OK(w0 == o0, "hup 2: the set before stays");
    IS(pw_keyring_hup(&kr, &seen1, &w1, err, sizeof err), 0, "hup 2: the second worker takes it");
    OK(w1 == o0, "hup 2: the set before, there too");
    pw_keyset_unref(w1);
    file("rpub", "pub-token\n", 0600);
    file("rtok", "ok-token\n", 0644);
    IS(pw_keyring_hup(&kr, &seen1, &w1, err, sizeof err), 1, "hup 3: the other worker reads first this time");
    OK(strstr(err, "--token-file '") && strstr(err, "open to every user (mode 0644); want "), "hup 3: %s", err);
    OK(w1 == o0, "hup 3: the set before stays");
    pw_keyset_unref(w0);
    pw_keyset_unref(w1);
    pw_keyset_unref(o0);
    pw_keyset_unref(o1);
    pw_keyring_free(&kr);
    free(tok);
    free(pub);
    free(key1);

    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", dir);
    return tap_done();
}
