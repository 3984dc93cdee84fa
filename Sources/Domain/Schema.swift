import Store

/// The schema, as numbered migrations. Append; never edit a migration that has shipped.
public enum Schema {
    /// Brings a database to the current schema; returns the versions applied now.
    @discardableResult
    public static func migrate(_ db: any Database, clock: Clock = .system) throws -> [Int] {
        try Migrator.migrate(db, migrations, now: clock.now())
    }

    /// A table of the schema and the columns of its primary key.
    public struct Table: Sendable, Equatable {
        public let name: String
        public let key: [String]
        init(_ name: String, key: [String] = ["id"]) {
            self.name = name
            self.key = key
        }
    }

    /// Every table the migrations make (bar `schema_migrations`), each after the tables it
    /// references, so copying them in this order (ids ascending) meets every foreign key.
    /// A test holds it to the migrations: a new table must be added here.
    public static let tables: [Table] = [
        Table("accounts"), Table("credentials"), Table("uploads"), Table("items"), Table("downloads"),
        Table("orders"), Table("order_items"), Table("jobs"), Table("media_files"),
        Table("idempotency_keys", key: ["account_id", "scope", "idempotency_key"]),
        Table("fetches"), Table("webhook_deliveries"), Table("batches"), Table("buckets"),
        Table("signup_attempts", key: ["address"]),
    ]

    public static let migrations: [Migration] = [
        Migration(1, "accounts, credentials, uploads, items, downloads", """
        CREATE TABLE accounts (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            email TEXT NOT NULL DEFAULT '',
            billing_email TEXT NOT NULL DEFAULT '',
            shopify_address TEXT NOT NULL DEFAULT '',
            url TEXT NOT NULL DEFAULT '',
            paypal_address TEXT NOT NULL DEFAULT '',
            order_expiration_in_hours INTEGER NOT NULL DEFAULT 240 CHECK (order_expiration_in_hours >= 0),
            download_limit_per_item INTEGER NOT NULL DEFAULT 3 CHECK (download_limit_per_item >= 0),
            created_at INTEGER NOT NULL
        );
        CREATE TABLE credentials (
            id INTEGER PRIMARY KEY,
            account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            api_key TEXT NOT NULL UNIQUE,
            token_hash BLOB NOT NULL UNIQUE,
            label TEXT NOT NULL DEFAULT '',
            created_at INTEGER NOT NULL,
            revoked_at INTEGER
        );
        CREATE INDEX credentials_account ON credentials(account_id);
        CREATE TABLE uploads (
            id INTEGER PRIMARY KEY,
            account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            filename TEXT NOT NULL,
            content_type TEXT NOT NULL,
            size_bytes INTEGER NOT NULL CHECK (size_bytes >= 0),
            storage_key TEXT NOT NULL UNIQUE,
            ip_address TEXT NOT NULL DEFAULT '',
            uploaded_at INTEGER NOT NULL
        );
        CREATE INDEX uploads_account ON uploads(account_id, id);
        CREATE INDEX uploads_filename ON uploads(account_id, filename);
        CREATE TABLE items (
            id INTEGER PRIMARY KEY,
            account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            sku TEXT NOT NULL,
            name TEXT NOT NULL DEFAULT '',
            price REAL NOT NULL DEFAULT 0,
            guid TEXT NOT NULL UNIQUE,
            upload_id INTEGER REFERENCES uploads(id) ON DELETE SET NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            UNIQUE (account_id, sku)
        );
        CREATE TABLE downloads (
            id INTEGER PRIMARY KEY,
            account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            item_id INTEGER REFERENCES items(id) ON DELETE SET NULL,
            item_sku TEXT NOT NULL,
            order_ref INTEGER,
            order_item_ref INTEGER,
            order_number TEXT,
            filename TEXT NOT NULL,
            ip_address TEXT NOT NULL DEFAULT '',
            size_bytes INTEGER NOT NULL DEFAULT 0,
            downloaded_at INTEGER NOT NULL
        );
        CREATE INDEX downloads_account ON downloads(account_id, id);
        CREATE INDEX downloads_item ON downloads(item_id, id);
        CREATE INDEX downloads_order ON downloads(order_ref, id);
        CREATE INDEX downloads_order_item ON downloads(order_item_ref, id);
        """),
        Migration(2, "orders, order items, durable job queue", """
        CREATE TABLE orders (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            number TEXT NOT NULL,
            title TEXT NOT NULL DEFAULT '',
            first_name TEXT NOT NULL DEFAULT '',
            last_name TEXT NOT NULL DEFAULT '',
            email TEXT NOT NULL DEFAULT '',
            expiration_date INTEGER NOT NULL,
            download_limit INTEGER NOT NULL CHECK (download_limit >= 0),
            manual INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            UNIQUE (account_id, number)
        );
        CREATE INDEX orders_account ON orders(account_id, id);
        CREATE TABLE order_items (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            order_id INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
            item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
            guid TEXT NOT NULL UNIQUE,
            downloads_remaining INTEGER NOT NULL CHECK (downloads_remaining >= 0),
            created_at INTEGER NOT NULL,
            UNIQUE (order_id, item_id)
        );
        CREATE INDEX order_items_item ON order_items(item_id);
        CREATE TABLE jobs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            account_id INTEGER REFERENCES accounts(id) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            payload TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
            attempts INTEGER NOT NULL DEFAULT 0,
            max_attempts INTEGER NOT NULL DEFAULT 8,
            run_at INTEGER NOT NULL,
            lease_token TEXT,
            lease_expires_at INTEGER,
            last_error TEXT,
            created_at INTEGER NOT NULL,
            finished_at INTEGER
        );
        CREATE INDEX jobs_ready ON jobs(state, run_at);
        CREATE INDEX jobs_lease ON jobs(state, lease_expires_at);
        """),
        Migration(3, "media files (Files API)", """
        CREATE TABLE media_files (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            public_id TEXT NOT NULL UNIQUE,
            account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            source TEXT NOT NULL CHECK (source IN ('upload', 'url')),
            source_url TEXT,
            status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'processing', 'ready', 'failed')),
            size_bytes INTEGER,
            content_type TEXT,
            storage_key TEXT,
            error TEXT,
            ffprobe TEXT,
            ffprobe_error TEXT,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX media_files_account ON media_files(account_id, id);
        """),
        Migration(4, "idempotency keys: the first result of a create, kept 24 h", """
        CREATE TABLE idempotency_keys (
            account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            scope TEXT NOT NULL,
            idempotency_key TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            status INTEGER NOT NULL,
            headers TEXT NOT NULL,
            body BLOB,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (account_id, scope, idempotency_key)
        );
        CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);
        """),
        Migration(5, "jobs: subject, batch and parent", """
        ALTER TABLE jobs ADD COLUMN subject_id TEXT;
        ALTER TABLE jobs ADD COLUMN batch_id TEXT;
        ALTER TABLE jobs ADD COLUMN parent_id INTEGER REFERENCES jobs(id);
        UPDATE jobs SET subject_id = payload WHERE kind IN ('file-probe', 'file-import');
        CREATE INDEX jobs_subject ON jobs(subject_id);
        CREATE INDEX jobs_batch ON jobs(batch_id);
        CREATE INDEX jobs_parent ON jobs(parent_id);
        """),
        // Auto-numbering reads the largest all-digit order id from an indexed column the domain
        // fills, instead of pattern-matching every id of the account in SQL.
        Migration(6, "orders: the value of all-digit order ids, for auto-numbering", """
        ALTER TABLE orders ADD COLUMN number_value INTEGER;
        UPDATE orders SET number_value = CAST(number AS INTEGER)
        WHERE LENGTH(number) BETWEEN 1 AND 18 AND TRIM(number, '0123456789') = '';
        CREATE INDEX orders_number_value ON orders(account_id, number_value);
        """),
        Migration(7, "per-account count of media files, so a list's total reads one row", """
        ALTER TABLE accounts ADD COLUMN media_files_count INTEGER NOT NULL DEFAULT 0;
        UPDATE accounts SET media_files_count = (SELECT COUNT(*) FROM media_files WHERE media_files.account_id = accounts.id);
        """),
        Migration(8, "fetches: media fetched from a URL by yt-dlp (Fetch and Downloader dialects)", """
        CREATE TABLE fetches (
          id INTEGER PRIMARY KEY,
          public_id TEXT NOT NULL UNIQUE,
          account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
          url TEXT NOT NULL, quality TEXT NOT NULL,
          status TEXT NOT NULL,
          step TEXT,
          progress_percent REAL, progress_bytes INTEGER, progress_total INTEGER, progress_speed REAL, progress_eta INTEGER,
          title TEXT, extractor TEXT, duration REAL,
          filename TEXT,
          size_bytes INTEGER, content_type TEXT, storage_key TEXT, ffprobe TEXT,
          error_code TEXT, error_message TEXT,
          webhook_url TEXT,
          created_at INTEGER NOT NULL, started_at INTEGER, finished_at INTEGER
        );
        CREATE INDEX fetches_account ON fetches (account_id, id);
        CREATE INDEX fetches_account_status ON fetches (account_id, status, id);
        """),
        Migration(9, "webhooks: each account's signing secret, and the log of delivery attempts", """
        ALTER TABLE accounts ADD COLUMN webhook_secret TEXT;
        CREATE TABLE webhook_deliveries (
            id INTEGER PRIMARY KEY,
            account_id INTEGER NOT NULL,
            subject_id TEXT NOT NULL,
            message_id TEXT NOT NULL,
            url TEXT NOT NULL,
            attempt INTEGER NOT NULL,
            attempted_at INTEGER NOT NULL,
            status INTEGER,
            duration_ms INTEGER,
            error TEXT
        );
        CREATE INDEX webhook_deliveries_subject ON webhook_deliveries (subject_id, id);
        """),
        Migration(10, "fetches: a download job's typed options (FetchOptions as JSON; NULL: none)", """
        ALTER TABLE fetches ADD COLUMN options TEXT;
        """),
        // Seed 002's jobs are fetches: which dialect made each (NULL reads as 'fetch'), its batch
        // (a batch's public id), when it last changed; batches, paused until started. The batch
        // index keeps `GET /jobs?batch_id=` keyset pages as cheap at 1 M rows as at 1 K.
        Migration(11, "fetches: origin, batch and last change; batches of download jobs", """
        ALTER TABLE fetches ADD COLUMN origin TEXT;
        ALTER TABLE fetches ADD COLUMN batch_id TEXT;
        ALTER TABLE fetches ADD COLUMN updated_at INTEGER;
        UPDATE fetches SET updated_at = COALESCE(finished_at, started_at, created_at);
        CREATE INDEX fetches_account_batch ON fetches (account_id, batch_id, id);
        CREATE TABLE batches (
          id INTEGER PRIMARY KEY,
          public_id TEXT NOT NULL UNIQUE,
          account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
          state TEXT NOT NULL,
          created_at INTEGER NOT NULL,
          started_at INTEGER,
          webhook_url TEXT
        );
        """),
        // Secrets are stored sealed (AES-256-GCM under the master key file, outside the database).
        Migration(12, "buckets: each account's own storage (S3, GCS, OSS, Azure Blob); fetches.object_key in it", """
        CREATE TABLE buckets (
            id INTEGER PRIMARY KEY,
            account_id INTEGER NOT NULL UNIQUE REFERENCES accounts(id) ON DELETE CASCADE,
            provider TEXT NOT NULL,
            bucket TEXT,
            region TEXT,
            endpoint TEXT,
            prefix TEXT NOT NULL DEFAULT '',
            path_style INTEGER NOT NULL DEFAULT 0,
            access_key_id TEXT,
            secret_sealed TEXT,
            account_name TEXT,
            container TEXT,
            sas_sealed TEXT,
            created_at INTEGER NOT NULL
        );
        ALTER TABLE fetches ADD COLUMN object_key TEXT;
        """),
        Migration(13, "fetches: the subtitle files stored beside the media (FetchSidecar list as JSON; NULL: none)", """
        ALTER TABLE fetches ADD COLUMN sidecars TEXT;
        """),
        // Sign-up (`SignUpService`): attempts per client address in fixed windows, counted by one
        // upsert; the folded name and email of each signed-up account, unique, so two concurrent
        // sign-ups with one email make one account on any engine (NULL for accounts made otherwise).
        Migration(14, "sign-up: attempts per client address; the unique folded name and email of signed-up accounts", """
        CREATE TABLE signup_attempts (
            address TEXT PRIMARY KEY,
            window_start INTEGER NOT NULL,
            attempts INTEGER NOT NULL
        );
        CREATE INDEX signup_attempts_window ON signup_attempts (window_start);
        ALTER TABLE accounts ADD COLUMN signup_name TEXT;
        ALTER TABLE accounts ADD COLUMN signup_email TEXT;
        CREATE UNIQUE INDEX accounts_signup_name ON accounts (signup_name);
        CREATE UNIQUE INDEX accounts_signup_email ON accounts (signup_email);
        """),
        // The account-wide webhook log (GET /fetch/deliveries) pages by (account_id, id) newest first.
        Migration(15, "webhook deliveries: the account's attempts in id order", """
        CREATE INDEX webhook_deliveries_account ON webhook_deliveries (account_id, id);
        """),
    ]
}
