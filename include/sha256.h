/* sha256.h: SHA-256 (FIPS 180-4), for migration checksums. */
#ifndef MIGRATE_SHA256_H
#define MIGRATE_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct Sha256
{
	uint32_t	state[8];
	uint64_t	bytes;
	uint8_t		block[64];
	size_t		used;
} Sha256;

void		sha256_init(Sha256 *c);
void		sha256_update(Sha256 *c, const void *data, size_t len);
void		sha256_final(Sha256 *c, uint8_t digest[32]);
/* Lower-case hex of the digest of data: 64 characters and a NUL. */
void		sha256_hex(const void *data, size_t len, char hex[65]);

#endif
