/*
 * fc_murmur2: the Java client's murmur2 partitioner (Utils.murmur2 and
 * toPositive), which librdkafka calls murmur2_random. fleetcap uses it to
 * know which partition a key lands in (the scheduler maps quota keys to the
 * ledger partitions it owns; a worker finds its jobs partition), so that
 * clients in any language agree.
 */
#ifndef FC_MURMUR2_H
#define FC_MURMUR2_H

#include <stddef.h>
#include <stdint.h>

/* Kafka's murmur2 hash of data, as the signed value the Java client computes. */
int32_t fc_murmur2(const void *data, size_t len);

/* The partition of key among partition_cnt partitions (> 0). */
int32_t fc_partition_for_key(const void *key, size_t len, int32_t partition_cnt);

#endif
