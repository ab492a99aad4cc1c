/*
 * dovecot_settings - the tables of Dovecot 2.3 settings and sections loft
 * does not implement (see dovecot_settings.h), and their checks.
 *
 * The global names are those `doveconf -a` prints for Debian 12's
 * dovecot-core 2.3.19.1 (the same list as the reference capture
 * instance-doveconf-all.txt), without loft's own settings, plus those
 * that `doveconf -a` does not print but doveconf accepts (index and cache
 * tuning, found by probing doveconf with the names in Dovecot's
 * libraries) and the ManageSieve settings of dovecot-managesieved.
 * Refused entries carry the value(s) under which they change nothing
 * (Dovecot's default) and what loft lacks; the reasoning for each class
 * is in docs/dovecot-compat.md.
 */
#include "dovecot_settings.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "settings.h"
#include "xalloc.h"

#define F(name) { #name, NULL, NULL, NULL }
#define R(name, inert, missing) { #name, inert, missing, NULL }
#define DOVECOT_END { NULL, NULL, NULL, NULL }

static const struct dovecot_setting dovecot_global_settings[] = {
	F(auth_anonymous_username),
	F(auth_cache_verify_password_with_worker),
	F(auth_debug),
	F(auth_debug_passwords),
	F(auth_default_realm),
	F(auth_failure_delay),
	F(auth_gssapi_hostname),
	F(auth_krb5_keytab),
	F(auth_master_user_separator),
	F(auth_mechanisms),
	F(auth_policy_check_after_auth),
	F(auth_policy_check_before_auth),
	F(auth_policy_hash_mech),
	F(auth_policy_hash_nonce),
	F(auth_policy_hash_truncate),
	F(auth_policy_log_only),
	F(auth_policy_reject_on_fail),
	F(auth_policy_report_after_auth),
	F(auth_policy_request_attributes),
	F(auth_policy_server_api_header),
	F(auth_policy_server_timeout_msecs),
	F(auth_policy_server_url),
	F(auth_proxy_self),
	F(auth_realms),
	F(auth_ssl_require_client_cert),
	F(auth_ssl_username_from_cert),
	F(auth_stats),
	F(auth_use_winbind),
	F(auth_verbose),
	F(auth_verbose_passwords),
	F(auth_winbind_helper_path),
	F(auth_worker_max_count),
	F(config_cache_size),
	F(dict_db_config),
	F(director_flush_socket),
	F(director_mail_servers),
	F(director_max_parallel_kicks),
	F(director_max_parallel_moves),
	F(director_output_buffer_size),
	F(director_ping_idle_timeout),
	F(director_ping_max_timeout),
	F(director_servers),
	F(director_user_expire),
	F(director_user_kick_delay),
	F(director_username_hash),
	F(disable_plaintext_auth),
	F(dotlock_use_excl),
	F(doveadm_allowed_commands),
	F(doveadm_api_key),
	F(doveadm_http_rawlog_dir),
	F(doveadm_password),
	F(doveadm_port),
	F(doveadm_proxy_port),
	F(doveadm_socket_path),
	F(doveadm_ssl),
	F(doveadm_username),
	F(doveadm_worker_count),
	F(dsync_alt_char),
	F(dsync_commit_msgs_interval),
	F(dsync_features),
	F(dsync_hashed_headers),
	F(dsync_remote_cmd),
	F(haproxy_timeout),
	F(imap_capability),
	F(imap_client_workarounds),
	F(imap_fetch_failure),
	F(imap_hibernate_timeout),
	F(imap_id_log),
	F(imap_id_retain),
	F(imap_id_send),
	F(imap_idle_notify_interval),
	F(imap_literal_minus),
	F(imap_logout_format),
	F(imap_max_line_length),
	F(imap_metadata),
	F(imap_urlauth_host),
	F(imap_urlauth_logout_format),
	F(imap_urlauth_port),
	F(imap_urlauth_stream_user),
	F(imap_urlauth_submit_user),
	F(imapc_cmd_timeout),
	F(imapc_connection_retry_count),
	F(imapc_connection_retry_interval),
	F(imapc_features),
	F(imapc_host),
	F(imapc_list_prefix),
	F(imapc_master_user),
	F(imapc_max_idle_time),
	F(imapc_max_line_length),
	F(imapc_password),
	F(imapc_port),
	F(imapc_rawlog_dir),
	F(imapc_sasl_mechanisms),
	F(imapc_ssl),
	F(imapc_ssl_verify),
	F(imapc_user),
	F(import_environment),
	F(instance_name),
	F(libexec_dir),
	R(lmtp_client_workarounds, "",
	  "LMTP client workarounds"),
	F(lmtp_proxy_rawlog_dir),
	F(lmtp_rawlog_dir),
	F(lmtp_verbose_replies),
	F(lock_method),
	F(log_core_filter),
	F(log_debug),
	F(login_access_sockets),
	F(login_greeting),
	F(login_log_format),
	F(login_log_format_elements),
	F(login_plugin_dir),
	F(login_plugins),
	F(login_proxy_max_disconnect_delay),
	F(login_proxy_max_reconnects),
	F(login_proxy_notify_path),
	F(login_proxy_rawlog_dir),
	F(login_proxy_timeout),
	F(login_source_ips),
	R(mail_access_groups, "",
	  "extra groups for mail access"),
	F(mail_always_cache_fields),
	R(mail_attachment_detection_options, "",
	  "attachment flags set when mail is saved"),
	R(mail_attachment_dir, "",
	  "single-instance attachment storage"),
	F(mail_attachment_fs),
	F(mail_attachment_hash),
	F(mail_attachment_min_size),
	F(mail_attribute_dict),
	F(mail_cache_fields),
	F(mail_cache_max_size),
	F(mail_cache_min_mail_count),
	F(mail_cache_purge_continued_percentage),
	F(mail_cache_purge_delete_percentage),
	F(mail_cache_purge_header_continue_count),
	F(mail_cache_purge_min_size),
	F(mail_cache_record_max_size),
	F(mail_cache_unaccessed_field_drop),
	R(mail_chroot, "",
	  "chrooted mail access"),
	R(mail_full_filesystem_access, "no",
	  "mailbox names that are file system paths"),
	F(mail_index_log2_max_age),
	F(mail_index_log_rotate_max_size),
	F(mail_index_log_rotate_min_age),
	F(mail_index_log_rotate_min_size),
	F(mail_index_rewrite_max_log_bytes),
	F(mail_index_rewrite_min_log_bytes),
	F(mail_log_prefix),
	F(mail_max_keyword_length),
	F(mail_max_userip_connections),
	F(mail_never_cache_fields),
	F(mail_nfs_index),
	R(mail_nfs_storage, "no",
	  "NFS cache flushing"),
	F(mail_plugin_dir),
	F(mail_prefetch_count),
	R(mail_save_crlf, "no",
	  "saving mail with CRLF line endings"),
	F(mail_server_admin),
	F(mail_server_comment),
	F(mail_shared_explicit_inbox),
	F(mail_sort_max_read_count),
	F(mail_temp_scan_interval),
	F(mail_vsize_bg_after_count),
	F(mailbox_idle_check_interval),
	F(mailbox_list_index),
	F(mailbox_list_index_include_inbox),
	F(mailbox_list_index_very_dirty_syncs),
	F(maildir_broken_filename_sizes),
	F(maildir_copy_with_hardlinks),
	F(maildir_empty_new),
	F(maildir_stat_dirs),
	F(maildir_very_dirty_syncs),
	F(managesieve_client_workarounds),
	F(managesieve_implementation_string),
	F(managesieve_implicit_extensions),
	F(managesieve_logout_format),
	F(managesieve_max_compile_errors),
	F(managesieve_max_line_length),
	F(managesieve_notify_capability),
	F(managesieve_sieve_capability),
	F(master_user_separator),
	F(mbox_dirty_syncs),
	F(mbox_lazy_writes),
	F(mbox_md5),
	F(mbox_min_index_size),
	F(mbox_read_locks),
	F(mbox_very_dirty_syncs),
	F(mdbox_preallocate_space),
	F(mdbox_rotate_interval),
	F(mdbox_rotate_size),
	F(mmap_disable),
	F(old_stats_carbon_interval),
	F(old_stats_carbon_name),
	F(old_stats_carbon_server),
	F(old_stats_command_min_time),
	F(old_stats_domain_min_time),
	F(old_stats_ip_min_time),
	F(old_stats_memory_limit),
	F(old_stats_session_min_time),
	F(old_stats_user_min_time),
	F(pop3_client_workarounds),
	F(pop3_delete_type),
	F(pop3_deleted_flag),
	F(pop3_enable_last),
	F(pop3_fast_size_lookups),
	F(pop3_lock_session),
	F(pop3_logout_format),
	F(pop3_no_flag_updates),
	F(pop3_reuse_xuidl),
	F(pop3_save_uidl),
	F(pop3_uidl_duplicates),
	F(pop3_uidl_format),
	F(pop3c_features),
	F(pop3c_host),
	F(pop3c_master_user),
	F(pop3c_password),
	F(pop3c_port),
	F(pop3c_quick_received_date),
	F(pop3c_rawlog_dir),
	F(pop3c_ssl),
	F(pop3c_ssl_verify),
	F(pop3c_user),
	F(process_shutdown_filter),
	F(rawlog_dir),
	F(replication_dsync_parameters),
	F(replication_full_sync_interval),
	F(replication_max_conns),
	F(replicator_host),
	F(replicator_port),
	F(shutdown_clients),
	F(stats_http_rawlog_dir),
	F(stats_writer_socket_path),
	F(submission_backend_capabilities),
	F(submission_client_workarounds),
	F(submission_logout_format),
	F(submission_max_mail_size),
	F(submission_max_recipients),
	F(submission_relay_command_timeout),
	F(submission_relay_connect_timeout),
	F(submission_relay_host),
	F(submission_relay_master_user),
	F(submission_relay_max_idle_time),
	F(submission_relay_password),
	F(submission_relay_port),
	F(submission_relay_rawlog_dir),
	F(submission_relay_ssl),
	F(submission_relay_ssl_verify),
	F(submission_relay_trusted),
	F(submission_relay_user),
	R(submission_ssl, "no",
	  "TLS to submission_host (loft speaks plain SMTP to it)"),
	F(valid_chroot_dirs),
	F(verbose_proctitle),
	F(version_ignore),
	DOVECOT_END
};

/* The ssl settings loft's TLS does not have: user names from client
   certificates, CRLs, OpenSSL engines, a client certificate for the
   proxy's TLS */
static const struct dovecot_setting dovecot_ssl_settings[] = {
	F(ssl_cert_username_field),
	F(ssl_client_cert), F(ssl_client_key),
	F(ssl_crypto_device), F(ssl_require_crl), F(verbose_ssl),
	DOVECOT_END
};

static const struct dovecot_setting dovecot_passdb_settings[] = {
	F(args), F(auth_verbose), F(default_fields), F(deny), F(driver),
	F(master), F(mechanisms), F(name), F(override_fields), F(pass),
	F(result_failure), F(result_internalfail), F(result_success),
	F(skip), F(username_filter),
	DOVECOT_END
};

/* A namespace's prefix, separator or location changes which directory a
   mailbox name (-m, +detail) maps to; loft maps names as the default
   private namespace does. */
static const struct dovecot_setting dovecot_namespace_settings[] = {
	R(alias_for, "", "namespace aliases"),
	F(disabled), F(hidden), F(ignore_on_failure), F(inbox), F(list),
	R(location, "", "a namespace location of its own"),
	F(order),
	R(prefix, "", "namespace prefixes for mailbox names"),
	R(separator, "", "a namespace hierarchy separator of its own"),
	F(subscriptions), F(type),
	DOVECOT_END
};

/* auto = create/subscribe makes the mailbox exist for a delivery to it
   (-m, Sieve's fileinto); loft creates mailboxes a delivery names with
   lda_mailbox_autocreate = yes, which then gives the same result. */
static const struct dovecot_setting dovecot_mailbox_settings[] = {
	{ "auto", "no", "auto-created mailboxes without lda_mailbox_autocreate "
	  "= yes (a delivery to the mailbox would go to INBOX)",
	  "lda_mailbox_autocreate" },
	F(autoexpunge), F(autoexpunge_max_mails), F(comment), F(driver),
	F(special_use),
	DOVECOT_END
};

static const struct dovecot_setting dovecot_metric_settings[] = {
	F(description), F(exporter), F(exporter_include), F(fields),
	F(filter), F(group_by),
	DOVECOT_END
};

static const struct dovecot_setting dovecot_event_exporter_settings[] = {
	F(format), F(format_args), F(transport), F(transport_args),
	F(transport_timeout),
	DOVECOT_END
};

/* A userdb's result_* rules change which userdb answers a lookup; loft
   walks its userdbs with skip only. */
const struct dovecot_setting dovecot_userdb_settings[] = {
	F(auth_verbose), F(name),
	R(result_failure, "continue", "userdb result rules"),
	R(result_internalfail, "continue", "userdb result rules"),
	R(result_success, "return-ok", "userdb result rules"),
	DOVECOT_END
};

/* Dovecot service settings loft's service table may lack; only checked
   as names, in the blocks of services loft does not run. */
const struct dovecot_setting dovecot_service_settings[] = {
	F(chroot), F(client_limit), F(drop_priv_before_exec), F(executable),
	F(extra_groups), F(group), F(idle_kill), F(privileged_group),
	F(process_limit), F(process_min_avail), F(protocol),
	F(service_count), F(type), F(user), F(vsz_limit),
	DOVECOT_END
};

const struct dovecot_setting dovecot_listener_settings[] = {
	F(address), F(group), F(haproxy), F(mode), F(port), F(reuse_port),
	F(ssl), F(user),
	DOVECOT_END
};

static const struct dovecot_section dovecot_sections[] = {
	{ "passdb", NULL, dovecot_passdb_settings },
	{ "namespace", NULL, dovecot_namespace_settings },
	{ "mailbox", "namespace", dovecot_mailbox_settings },
	{ "dict", NULL, NULL },
	{ "metric", NULL, dovecot_metric_settings },
	{ "event_exporter", NULL, dovecot_event_exporter_settings },
};

/* `doveconf -a`'s services but lmtp, stats, log and auth (loft runs
   those; auth is loft-auth's userdb socket), with Pigeonhole's
   managesieve services */
static const char *const dovecot_foreign_services[] = {
	"aggregator", "anvil", "auth-worker", "config", "dict",
	"dict-async", "director", "dns-client", "doveadm", "health-check",
	"imap", "imap-hibernate", "imap-login", "imap-urlauth",
	"imap-urlauth-login", "imap-urlauth-worker", "indexer",
	"indexer-worker", "ipc", "managesieve", "managesieve-login",
	"old-stats", "pop3", "pop3-login", "quota-status", "replicator",
	"submission", "submission-login", "tcpwrap",
};

static const char *const dovecot_foreign_protocols[] = {
	"imap", "pop3", "submission", "sieve", "doveadm", "indexer-worker",
	"imap-urlauth", "imap-urlauth-worker", "imap-hibernate",
};

static const char *const dovecot_filters[] = { "local", "remote", "local_name" };

#define DOVECOT_ERROR_MAX 512
static __thread char dovecot_error_buf[DOVECOT_ERROR_MAX];

const struct dovecot_setting *
dovecot_setting_find(const struct dovecot_setting *table, const char *name)
{
	for (; table->name != NULL; table++) {
		if (strcmp(table->name, name) == 0)
			return table;
	}
	return NULL;
}

const struct dovecot_setting *dovecot_global_setting(const char *name)
{
	const struct dovecot_setting *s =
		dovecot_setting_find(dovecot_global_settings, name);

	return s != NULL ? s : dovecot_setting_find(dovecot_ssl_settings, name);
}

int dovecot_setting_check(const struct dovecot_setting *s, const char *value,
			  const char **error_r)
{
	if (s->inert == NULL || settings_value_in_list(s->inert, value, true))
		return 0;
	snprintf(dovecot_error_buf, sizeof(dovecot_error_buf),
		 "%s = %s: loft does not implement %s", s->name, value,
		 s->missing);
	*error_r = dovecot_error_buf;
	return -1;
}

const struct dovecot_section *dovecot_section_find(const char *keyword,
						   const char *parent)
{
	for (size_t i = 0; i < LOFT_N_ELEMENTS(dovecot_sections); i++) {
		const struct dovecot_section *sec = &dovecot_sections[i];

		if (strcmp(sec->keyword, keyword) != 0)
			continue;
		if (sec->parent == NULL ? parent == NULL :
		    parent != NULL && strcmp(sec->parent, parent) == 0)
			return sec;
	}
	return NULL;
}

bool dovecot_service_is_foreign(const char *name)
{
	return settings_name_in(name, dovecot_foreign_services,
			  LOFT_N_ELEMENTS(dovecot_foreign_services));
}

bool dovecot_protocol_is_foreign(const char *name)
{
	return settings_name_in(name, dovecot_foreign_protocols,
			  LOFT_N_ELEMENTS(dovecot_foreign_protocols));
}

bool dovecot_is_filter(const char *keyword)
{
	return settings_name_in(keyword, dovecot_filters,
			  LOFT_N_ELEMENTS(dovecot_filters));
}
