/* base64.c — see base64.h. */
#include "base64.h"

#include <openssl/evp.h>

size_t pw_base64(const uint8_t *in, size_t n, char *out, size_t outsz)
{
    if (outsz < 4 * ((n + 2) / 3) + 1)
        return 0;
    return (size_t)EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}
