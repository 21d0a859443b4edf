/* api_send: one delivery report per request; see api_send.h. */
#include "api_send.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* How long a request waits for Kafka before it answers 503. */
#define SEND_TIMEOUT_MS "10000"

struct api_send {
	rd_kafka_t *producer;
	pthread_t poller;
	atomic_int stop;
	pthread_mutex_t lock;
	pthread_cond_t delivered;
};

/* One record waiting for its delivery report. */
struct pending {
	int done;
	rd_kafka_resp_err_t err;
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct api_send *s = opaque;
	struct pending *p = m->_private;

	(void)rk;
	pthread_mutex_lock(&s->lock);
	p->err = m->err;
	p->done = 1;
	pthread_cond_broadcast(&s->delivered);
	pthread_mutex_unlock(&s->lock);
}

static void *poll_loop(void *opaque)
{
	struct api_send *s = opaque;

	while (!atomic_load(&s->stop))
		rd_kafka_poll(s->producer, 100);
	return NULL;
}

struct api_send *api_send_new(const char *brokers, const struct fc_kv_list *kafka,
			      struct fc_err *err)
{
	struct api_send *s = calloc(1, sizeof(*s));
	rd_kafka_conf_t *conf;
	char errstr[512];

	if (!s) {
		fc_err_set(err, FC_ERR_FATAL, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->delivered, NULL);
	if (!(conf = fc_kafka_conf_new(brokers, kafka, err)) ||
	    fc_kafka_conf_set(conf, "enable.idempotence", "true", err) ||
	    fc_kafka_conf_set(conf, "linger.ms", "0", err) ||
	    fc_kafka_conf_set(conf, "message.timeout.ms", SEND_TIMEOUT_MS, err)) {
		if (conf)
			rd_kafka_conf_destroy(conf);
		free(s);
		return NULL;
	}
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	rd_kafka_conf_set_opaque(conf, s);
	if (!(s->producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr)))) {
		fc_err_set(err, FC_ERR_FATAL, "Kafka producer: %s", errstr);
		free(s);
		return NULL;
	}
	if (pthread_create(&s->poller, NULL, poll_loop, s) != 0) {
		rd_kafka_destroy(s->producer);
		free(s);
		fc_err_set(err, FC_ERR_FATAL, "cannot start the producer thread");
		return NULL;
	}
	return s;
}

int api_send(struct api_send *s, const char *topic, const char *key, const ProtobufCMessage *msg,
	     struct fc_err *err)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	uint8_t *buf = malloc(len ? len : 1);
	struct pending p = {0};
	rd_kafka_resp_err_t e;

	if (!buf) {
		fc_err_set(err, FC_ERR_FATAL, "out of memory");
		return -1;
	}
	protobuf_c_message_pack(msg, buf);
	e = rd_kafka_producev(s->producer, RD_KAFKA_V_TOPIC(topic),
			      RD_KAFKA_V_KEY(key, strlen(key)), RD_KAFKA_V_VALUE(buf, len),
			      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE), RD_KAFKA_V_OPAQUE(&p),
			      RD_KAFKA_V_END);
	if (e) {
		free(buf);
		fc_err_set(err, FC_ERR_RETRY, "Kafka: %s", rd_kafka_err2str(e));
		return -1;
	}
	pthread_mutex_lock(&s->lock);
	while (!p.done) /* message.timeout.ms bounds the wait */
		pthread_cond_wait(&s->delivered, &s->lock);
	pthread_mutex_unlock(&s->lock);
	if (p.err) {
		fc_err_set(err, FC_ERR_RETRY, "Kafka: %s", rd_kafka_err2str(p.err));
		return -1;
	}
	return 0;
}

void api_send_free(struct api_send *s)
{
	if (!s)
		return;
	rd_kafka_flush(s->producer, 10000);
	atomic_store(&s->stop, 1);
	pthread_join(s->poller, NULL);
	rd_kafka_destroy(s->producer);
	pthread_cond_destroy(&s->delivered);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
