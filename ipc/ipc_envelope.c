/*
 * ipc_envelope - Hello handshake, freeing, naming and event weight of
 * Envelopes (see ipc_envelope.h). Helper-built envelopes are allocated
 * exactly as protobuf-c's unpacker allocates, so one free path serves both.
 */
#include "ipc_envelope.h"

#include <stdlib.h>

#include "error_slot.h"
#include "xalloc.h"

static __thread struct error_slot ipc_envelope_error;

/* ipc_alloc - protobuf-c allocation hook: never fails */
static void *ipc_alloc(void *allocator_data, size_t size)
{
	return xmalloc(size);
}

/* ipc_free - protobuf-c free hook */
static void ipc_free(void *allocator_data, void *ptr)
{
	free(ptr);
}

ProtobufCAllocator ipc_allocator = {
	.alloc = ipc_alloc,
	.free = ipc_free,
	.allocator_data = NULL,
};

Loft__Envelope *ipc_hello_envelope(Loft__Role role, const char *service,
				   uint32_t pid)
{
	Loft__Envelope *env = xmalloc(sizeof(*env));
	Loft__Hello *hello = xmalloc(sizeof(*hello));

	loft__envelope__init(env);
	loft__hello__init(hello);
	hello->version = LOFT__PROTOCOL_VERSION__PROTOCOL_VERSION_CURRENT;
	hello->role = role;
	hello->service = service == NULL ? NULL : xstrdup(service);
	hello->has_pid = true;
	hello->pid = pid;
	env->body_case = LOFT__ENVELOPE__BODY_HELLO;
	env->hello = hello;
	return env;
}

int ipc_check_hello(const Loft__Envelope *first, const char **error_r)
{
	if (first->body_case != LOFT__ENVELOPE__BODY_HELLO) {
		*error_r = error_slot_set(&ipc_envelope_error,
			"handshake: first message is %s, not hello",
			ipc_envelope_body_name(first->body_case));
		return -1;
	}
	if (first->hello->version !=
	    LOFT__PROTOCOL_VERSION__PROTOCOL_VERSION_CURRENT) {
		*error_r = error_slot_set(&ipc_envelope_error,
			"handshake: protocol version %u, want %u",
			first->hello->version,
			(unsigned int)LOFT__PROTOCOL_VERSION__PROTOCOL_VERSION_CURRENT);
		return -1;
	}
	return 0;
}

void ipc_envelope_free(Loft__Envelope **env)
{
	if (*env == NULL)
		return;
	loft__envelope__free_unpacked(*env, &ipc_allocator);
	*env = NULL;
}

const char *ipc_envelope_body_name(Loft__Envelope__BodyCase body)
{
	const ProtobufCFieldDescriptor *field;

	if (body == LOFT__ENVELOPE__BODY__NOT_SET)
		return "none";
	field = protobuf_c_message_descriptor_get_field(
		&loft__envelope__descriptor, (unsigned int)body);
	return field == NULL ? "unknown" : field->name;
}

uint64_t ipc_envelope_events(const Loft__Envelope *env, bool *report_r)
{
	*report_r = false;
	switch (env->body_case) {
	case LOFT__ENVELOPE__BODY_HELLO:
		return 0;
	case LOFT__ENVELOPE__BODY_DROPPED:
		*report_r = true;
		return env->dropped->events;
	default:
		return 1;
	}
}
