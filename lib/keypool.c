/*
 * This module implements the key pool: one thread that makes keys ahead of
 * use for a command issuing many certificates (issue --batch).
 *
 * Making an ECDSA key is the cheap part of a certificate under OpenSSL 3.0:
 * setting its public key into the certificate and encoding the private key
 * for storage each go through the provider's encoder lookup, which costs
 * more.  The thread does all three for the next certificates while the
 * caller signs, writes and commits the current one; on a machine with a
 * second core that work leaves the caller's path.  The thread touches only
 * OpenSSL and the keys it makes, never the repository.
 *
 * It makes at most POOL_DEPTH keys ahead, of the spec last asked for; a
 * request for another spec throws those away (cleansed) and is served in
 * line.
 */
#include <pthread.h>
#include <stdlib.h>
#include "internal.h"

#define POOL_DEPTH 2

struct cc_key_pool {
	pthread_mutex_t lock;
	pthread_cond_t changed; /* a key made, taken or thrown away; a new spec; stop */
	pthread_t thread;
	int started;
	int stopping;
	int failed;         /* the thread could not make a key: serve in line */
	cc_key_spec spec;   /* what to make; CC_KEY_NONE: nothing yet */
	unsigned generation; /* bumped when the spec changes */
	cc_key *ready[POOL_DEPTH];
	size_t nready;
};

static int poolable(const cc_key_spec *spec)
{
	return spec->type == CC_KEY_ECDSA || spec->type == CC_KEY_ED25519;
}

static int same_spec(const cc_key_spec *a, const cc_key_spec *b)
{
	return a->type == b->type && a->bits == b->bits;
}

/* Throw away what was made ahead; with the lock held. */
static void drop_ready(cc_key_pool *pool)
{
	while (pool->nready)
		cc_key_free(pool->ready[--pool->nready]);
}

static void *pool_thread(void *arg)
{
	cc_key_pool *pool = arg;

	pthread_mutex_lock(&pool->lock);
	for (;;) {
		cc_key_spec spec;
		unsigned generation;
		cc_key *key = NULL;
		int ok;

		while (!pool->stopping &&
		       (pool->failed || !poolable(&pool->spec) || pool->nready == POOL_DEPTH))
			pthread_cond_wait(&pool->changed, &pool->lock);
		if (pool->stopping)
			break;
		spec = pool->spec;
		generation = pool->generation;
		pthread_mutex_unlock(&pool->lock);
		ok = cc_key_generate(&key, &spec) == 0 && cc_key_prepare(key) == 0;
		pthread_mutex_lock(&pool->lock);
		if (!ok) {
			pool->failed = 1;
		} else if (generation == pool->generation && !pool->stopping) {
			pool->ready[pool->nready++] = key;
			key = NULL;
		}
		cc_key_free(key);
		pthread_cond_broadcast(&pool->changed);
	}
	pthread_mutex_unlock(&pool->lock);
	return NULL;
}

int cc_key_pool_new(cc_key_pool **out)
{
	cc_key_pool *pool = calloc(1, sizeof(*pool));

	*out = NULL;
	if (!pool)
		return cc_error_set(CC_ERROR, "out of memory");
	if (pthread_mutex_init(&pool->lock, NULL) != 0) {
		free(pool);
		return cc_error_set(CC_ERROR, "cannot make the key pool's lock");
	}
	if (pthread_cond_init(&pool->changed, NULL) != 0) {
		pthread_mutex_destroy(&pool->lock);
		free(pool);
		return cc_error_set(CC_ERROR, "cannot make the key pool's condition");
	}
	pool->spec.type = CC_KEY_NONE;
	*out = pool;
	return 0;
}

int cc_key_pool_take(cc_key_pool *pool, cc_key **out, const cc_key_spec *spec)
{
	*out = NULL;
	if (!poolable(spec))
		return cc_key_generate(out, spec);
	pthread_mutex_lock(&pool->lock);
	if (!same_spec(&pool->spec, spec)) {
		drop_ready(pool);
		pool->spec = *spec;
		pool->generation++;
		pool->failed = 0;
		/* Without a thread (it could not start) every key is made in line. */
		if (!pool->started && pthread_create(&pool->thread, NULL, pool_thread, pool) == 0)
			pool->started = 1;
		pthread_cond_broadcast(&pool->changed);
	} else {
		/* The thread is making one: waiting for it costs less than
		 * making another here. */
		while (pool->started && !pool->failed && !pool->nready)
			pthread_cond_wait(&pool->changed, &pool->lock);
		if (pool->nready) {
			*out = pool->ready[0];
			pool->nready--;
			for (size_t i = 0; i < pool->nready; i++)
				pool->ready[i] = pool->ready[i + 1];
			pthread_cond_broadcast(&pool->changed);
		}
	}
	pthread_mutex_unlock(&pool->lock);
	return *out ? 0 : cc_key_generate(out, spec);
}

void cc_key_pool_free(cc_key_pool *pool)
{
	if (!pool)
		return;
	pthread_mutex_lock(&pool->lock);
	pool->stopping = 1;
	pthread_cond_broadcast(&pool->changed);
	pthread_mutex_unlock(&pool->lock);
	if (pool->started)
		pthread_join(pool->thread, NULL);
	drop_ready(pool);
	pthread_cond_destroy(&pool->changed);
	pthread_mutex_destroy(&pool->lock);
	free(pool);
}
