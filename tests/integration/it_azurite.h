/*
 * it_azurite: what the upload tests need from Azure storage on the side of
 * the test, independent of the code under test: service SAS tokens signed
 * here (the 2020-12-06 string to sign, HMAC-SHA256 with the account key),
 * a blob read back through a read-only SAS, and an Azurite instance of the
 * test's own that it can kill and start again on the same port and data.
 */
#ifndef IT_AZURITE_H
#define IT_AZURITE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Azurite's published development account and key (not secrets). */
#define IT_AZURITE_ACCOUNT "devstoreaccount1"
#define IT_AZURITE_KEY                                                                             \
	"Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

/* Writes a container SAS token with permissions perms ("cw", "r") into out. */
void it_azurite_sas(const char *container, const char *perms, char *out, size_t len);

/*
 * Downloads endpoint/container/blob with a read SAS and writes the SHA-256
 * (hex) of its bytes and their count. Returns the HTTP status.
 */
long it_azurite_blob_sha256(const char *endpoint, const char *container, const char *blob,
			    char hex[65], uint64_t *size);

/* SHA-256 (hex) of a local file; 0 or -1. */
int it_file_sha256(const char *path, char hex[65]);

/* Writes size bytes of a deterministic pattern (seeded) to path; 0 or -1. */
int it_make_file(const char *path, uint64_t size, uint32_t seed);

/* A TCP port of 127.0.0.1 free at the time of the call. */
unsigned it_free_port(void);

struct it_azurite {
	pid_t pid;
	unsigned port;
	char dir[256];
	char endpoint[128];
};

/*
 * Starts $FLEETCAP_AZURITE_BIN on port (0 = pick a free one) with its data in
 * dir, and waits until it answers. 0 or -1.
 */
int it_azurite_start(struct it_azurite *a, const char *dir, unsigned port);

/* Kills the instance with signal sig and reaps it. */
void it_azurite_kill(struct it_azurite *a, int sig);

#endif
