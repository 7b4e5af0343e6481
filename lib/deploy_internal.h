/*
 * What the deployment modules share: a target's settings resolved into
 * files and commands (target.c), the material written (deploy.c), the
 * ways of installing (install.c: local files, certbot's layout, hooks,
 * SFTP) and the install package (package.c).
 */
#ifndef CERTCTL_DEPLOY_INTERNAL_H
#define CERTCTL_DEPLOY_INTERNAL_H

#include <sys/types.h>
#include "internal.h"

typedef enum {
	TT_FILES = 0,
	TT_NGINX,
	TT_APACHE,
	TT_HAPROXY,
	TT_POSTFIX,
	TT_DOVECOT,
	TT_CERTBOT_LIVE,
	TT_SFTP,
	TT_COMMAND,
	TT_PACKAGE,
	TT_VECS,
} target_type;

/* The pieces a target can want, in the order they are written. */
typedef enum {
	PIECE_CERT = 0,
	PIECE_CHAIN,
	PIECE_FULLCHAIN,
	PIECE_KEY,
	PIECE_COMBINED,
	PIECE_PKCS12,
	PIECE_JKS,
	PIECE_COUNT,
} piece_kind;

typedef struct {
	piece_kind kind;
	char *path;    /* absolute (local), or relative to the sftp URL's directory */
	unsigned mode;
} target_file;

typedef struct {
	const cc_target *source;
	const char *name;
	target_type type;
	target_type layout;   /* package and sftp: whose file layout */
	char *dir;
	target_file files[PIECE_COUNT];
	size_t nfiles;
	char *alias;
	char *passphrase_file, *passphrase_env;
	char *owner, *group;  /* names or numbers, resolved where installed */
	uid_t uid;            /* (uid_t)-1: unchanged */
	gid_t gid;
	char **test, **reload, **run; /* NULL-terminated argv lists; NULL: none */
	long timeout_ms;
	/* Deploy check; host NULL: none. */
	char *check_host, *check_sni;
	unsigned check_port;
	cc_starttls check_starttls;
	int check_enabled;
	long settle_ms;       /* how long the deploy check waits for a reload to take */
	int auto_install;
	char *peer;
	char *cert_name;      /* certbot-live */
	char *url, *identity, *known_hosts; /* sftp */
	char *out;            /* package */
	char *store, *vecs_cli; /* vecs: the VECS store and vecs-cli (alias: alias) */
} deploy_target;

/* Resolve a target's settings (and the defaults of its type) for
 * definition `def`; errors point at the setting. */
int target_resolve(deploy_target *out, const cc_target *target, const char *def);
void target_dispose(deploy_target *t);
const char *target_type_name(target_type type);
/* Whether any file of the target holds the private key (or it is a hook). */
int target_needs_key(const deploy_target *t);

/* The bytes of each piece for one certificate. */
typedef struct {
	const cc_cert *cert;
	cc_cert *const *chain;
	size_t nchain;
	const cc_key *key;    /* NULL when there is none */
	const char *cert_id, *previous_id, *definition;
	cc_buf piece[PIECE_COUNT];
	int have[PIECE_COUNT];
} deploy_material;

/* Build the pieces `t` wants (PKCS#12 and JKS need the target's password). */
int material_build(deploy_material *m, const deploy_target *t);
/* The certificate, chain and fullchain PEM pieces. */
int material_build_pem(deploy_material *m);
void material_dispose(deploy_material *m);

/* What an installation changed, to put the old state back on failure. */
typedef struct {
	char *path;
	char *prev;       /* where the old file is kept (path.certctl-prev) */
	int had_old;      /* the old file is at prev */
	char *old_link;   /* a symbolic link that pointed there (certbot-live) */
	int created;      /* nothing was there */
} placed_file;

typedef struct {
	placed_file *items;
	size_t count;
} install_log;

void install_log_dispose(install_log *log);

/* Local files (files, nginx, apache, haproxy, postfix, dovecot). */
int install_preflight(deploy_target *t);
int install_local(const deploy_target *t, const deploy_material *m, install_log *log);
/* certbot's live/ and archive/ layout. */
int install_certbot(const deploy_target *t, const deploy_material *m, install_log *log);
/* Put back what `log` records; best effort, errors reported in `why`. */
void install_undo(const install_log *log, cc_buf *why);
/* Upload over SFTP (libcurl), then the remote reload through ssh. */
int install_sftp(const deploy_target *t, const deploy_material *m, install_log *log);
int install_sftp_undo(const deploy_target *t, const install_log *log);
/* The argv of the remote reload: ssh ... -- 'quoted' 'args'. */
int sftp_reload_argv(const deploy_target *t, char ***out);
void argv_free(char **argv);

/* The install package: a tar.gz with the files, the key encrypted under
 * `pass`, install.sh, README and a manifest. */
int package_build(cc_buf *out, const deploy_target *t, const deploy_material *m,
		  const cc_secret *pass);

/* Single-quote `s` for a POSIX shell. */
int shell_quote(cc_buf *out, const char *s);

#endif
