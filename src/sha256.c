/*
 * sha256.c: SHA-256 as FIPS 180-4 defines it.  Small and dependency-free,
 * so that a checksum needs neither a database nor a crypto library.
 */
#include "sha256.h"

#include <string.h>

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROTR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void
sha256_block(Sha256 *c, const uint8_t *p)
{
	uint32_t	w[64];
	uint32_t	a, b, cc, d, e, f, g, h;

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t) p[4 * i] << 24 | (uint32_t) p[4 * i + 1] << 16 |
			(uint32_t) p[4 * i + 2] << 8 | (uint32_t) p[4 * i + 3];
	for (int i = 16; i < 64; i++)
	{
		uint32_t	s0 = ROTR(w[i - 15], 7) ^ ROTR(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t	s1 = ROTR(w[i - 2], 17) ^ ROTR(w[i - 2], 19) ^ (w[i - 2] >> 10);

		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = c->state[0];
	b = c->state[1];
	cc = c->state[2];
	d = c->state[3];
	e = c->state[4];
	f = c->state[5];
	g = c->state[6];
	h = c->state[7];
	for (int i = 0; i < 64; i++)
	{
		uint32_t	s1 = ROTR(e, 6) ^ ROTR(e, 11) ^ ROTR(e, 25);
		uint32_t	ch = (e & f) ^ (~e & g);
		uint32_t	t1 = h + s1 + ch + K[i] + w[i];
		uint32_t	s0 = ROTR(a, 2) ^ ROTR(a, 13) ^ ROTR(a, 22);
		uint32_t	maj = (a & b) ^ (a & cc) ^ (b & cc);
		uint32_t	t2 = s0 + maj;

		h = g;
		g = f;
		f = e;
		e = d + t1;
		d = cc;
		cc = b;
		b = a;
		a = t1 + t2;
	}
	c->state[0] += a;
	c->state[1] += b;
	c->state[2] += cc;
	c->state[3] += d;
	c->state[4] += e;
	c->state[5] += f;
	c->state[6] += g;
	c->state[7] += h;
}

void
sha256_init(Sha256 *c)
{
	static const uint32_t init[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};

	memcpy(c->state, init, sizeof init);
	c->bytes = 0;
	c->used = 0;
}

void
sha256_update(Sha256 *c, const void *data, size_t len)
{
	const uint8_t *p = data;

	c->bytes += len;
	while (len > 0)
	{
		size_t		take = 64 - c->used;

		if (take > len)
			take = len;
		memcpy(c->block + c->used, p, take);
		c->used += take;
		p += take;
		len -= take;
		if (c->used == 64)
		{
			sha256_block(c, c->block);
			c->used = 0;
		}
	}
}

void
sha256_final(Sha256 *c, uint8_t digest[32])
{
	uint64_t	bits = c->bytes * 8;
	uint8_t		pad = 0x80;
	uint8_t		len[8];

	sha256_update(c, &pad, 1);
	pad = 0;
	while (c->used != 56)
		sha256_update(c, &pad, 1);
	for (int i = 0; i < 8; i++)
		len[i] = (uint8_t) (bits >> (56 - 8 * i));
	sha256_update(c, len, 8);
	for (int i = 0; i < 8; i++)
	{
		digest[4 * i] = (uint8_t) (c->state[i] >> 24);
		digest[4 * i + 1] = (uint8_t) (c->state[i] >> 16);
		digest[4 * i + 2] = (uint8_t) (c->state[i] >> 8);
		digest[4 * i + 3] = (uint8_t) c->state[i];
	}
}

void
sha256_hex(const void *data, size_t len, char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	Sha256		c;
	uint8_t		d[32];

	sha256_init(&c);
	sha256_update(&c, data, len);
	sha256_final(&c, d);
	for (int i = 0; i < 32; i++)
	{
		hex[2 * i] = digits[d[i] >> 4];
		hex[2 * i + 1] = digits[d[i] & 15];
	}
	hex[64] = '\0';
}
