/*
 * ipc_envelope - helpers around the protobuf-c Envelope that every loft IPC
 * frame carries: the Hello handshake (build and check), freeing decoded or
 * helper-built envelopes, a printable name per body type, and the number
 * of events an envelope stands for (what a queue counts when it is lost).
 * Envelopes built on the stack with LOFT__*__INIT need none of this.
 */
#ifndef LOFT_IPC_ENVELOPE_H
#define LOFT_IPC_ENVELOPE_H

#include <stdbool.h>
#include <stdint.h>

#include "loft.pb-c.h"

/* the protobuf-c allocator loft uses for unpacking: xmalloc()/free() */
extern ProtobufCAllocator ipc_allocator;

/* ipc_hello_envelope - a heap-built Envelope{Hello{version = current,
   role, service (may be NULL: absent), pid}}; free with
   ipc_envelope_free() */
Loft__Envelope *ipc_hello_envelope(Loft__Role role, const char *service,
				   uint32_t pid);
/* ipc_check_hello - 0 when first is a Hello of the current protocol
   version, else -1 with *error_r set (thread-local, valid until this
   thread's next ipc_envelope error) */
int ipc_check_hello(const Loft__Envelope *first, const char **error_r);
/* ipc_envelope_free - free an envelope from ipc_decoder_next() or
   ipc_hello_envelope(); sets *env = NULL; NULL is fine */
void ipc_envelope_free(Loft__Envelope **env);
/* ipc_envelope_body_name - "hello", "session_start", ... or "none" */
const char *ipc_envelope_body_name(Loft__Envelope__BodyCase body);

/* ipc_envelope_events - how many reportable events env stands for: 0 for
   Hello, Dropped's count for a Dropped report, 1 for everything else;
   *report_r tells whether env is a Dropped report (its events were already
   counted once, by whoever dropped them) */
uint64_t ipc_envelope_events(const Loft__Envelope *env, bool *report_r);

#endif
