// The system's libcrypto (OpenSSL 3), for SHA-256 only: the message digest API.
#include <openssl/evp.h>
