/*
 * api_send: fleetcap-api's producer. Each request's record is sent and
 * waited for on its own (a delivery report per record), so concurrent
 * requests neither wait for each other nor share a flush.
 */
#ifndef API_SEND_H
#define API_SEND_H

#include "fc_config.h"
#include "fc_err.h"
#include "fc_kafka.h"
#include "fleetcap.pb-c.h"

struct api_send;

struct api_send *api_send_new(const char *brokers, const struct fc_kv_list *kafka,
			      struct fc_err *err);

/* Produces msg to topic under key and waits until Kafka has it (at most
 * 10 s). 0, or -1 with err. Thread-safe. */
int api_send(struct api_send *s, const char *topic, const char *key, const ProtobufCMessage *msg,
	     struct fc_err *err);

void api_send_free(struct api_send *s);

#endif
