/*
 * Private to the GEOM core: the class list, the event thread's kick, and
 * little-endian field codecs shared by the metadata formats.
 */
#ifndef KARST_G_INTERNAL_H
#define KARST_G_INTERNAL_H

#include "geom.h"

/* Registered classes (topology lock). */
extern struct list_node g_classes;
/* Geoms being withered; non-zero makes g_up kick the washer. */
extern _Atomic int g_withering;

/* Wake the event thread so it runs the washer; any context. */
void g_event_kick(void);
/* Run by the event thread after each batch of events (topology locked). */
void g_wash(void);
/* Offer pp to every class (or only to `only` when not NULL). */
void g_taste_provider(struct g_provider *pp, struct g_class *only);
bool g_event_thread_self(void);
/* Tell the observers (g_observer.c) about pp; event thread, topology
 * locked. Each does nothing when it does not apply (not ready, or not
 * announced), so callers need not check. */
void g_observers_ready(struct g_provider *pp);
void g_observers_gone(struct g_provider *pp);
void g_observers_reset(void);

int g_io_start(void);
void g_io_stop(void);
int g_event_start(void);
void g_event_stop(void);

extern struct g_class g_user_class;

/* Little-endian field codecs: metadata is encoded one field at a time. */
static inline void g_le16enc(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void g_le32enc(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void g_le64enc(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint16_t g_le16dec(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t g_le32dec(const uint8_t *p)
{
	uint32_t v = 0;
	for (int i = 3; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static inline uint64_t g_le64dec(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

#endif
