//! A plain client for tests that check what rotor did to a throwaway
//! PostgreSQL: run SQL as the superuser, read one-column answers, and try a
//! login the way an application would (not through rotor).

use crate::postgres::Postgres;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("testkit: tokio runtime")
}

impl Postgres {
    /// Runs SQL (one or more statements) as the superuser; panics on error.
    pub fn sql(&self, sql: &str) {
        let url = self.admin_url();
        runtime().block_on(async {
            let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .expect("testkit: superuser connect");
            let conn = tokio::spawn(conn);
            client
                .batch_execute(sql)
                .await
                .unwrap_or_else(|e| panic!("testkit: {sql}: {e}"));
            drop(client);
            let _ = conn.await;
        });
    }

    /// The first column of every row `sql` returns, as text (`NULL` as
    /// `None`); run as the superuser. Cast in SQL (`::text`) for non-text
    /// columns.
    pub fn column(&self, sql: &str) -> Vec<Option<String>> {
        let url = self.admin_url();
        runtime().block_on(async {
            let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .expect("testkit: superuser connect");
            let conn = tokio::spawn(conn);
            let rows = client
                .query(sql, &[])
                .await
                .unwrap_or_else(|e| panic!("testkit: {sql}: {e}"));
            drop(client);
            let _ = conn.await;
            rows.iter().map(|r| r.get::<_, Option<String>>(0)).collect()
        })
    }

    /// Logs in as `user` with `password` over TCP and runs `query`
    /// (e.g. `SELECT 1`). `Err` holds the server's message, never the
    /// password.
    pub fn login(&self, user: &str, password: &str, query: &str) -> Result<(), String> {
        let mut config = tokio_postgres::Config::new();
        config
            .host("127.0.0.1")
            .port(self.port())
            .dbname("postgres")
            .user(user)
            .password(password);
        runtime().block_on(async {
            let (client, conn) = config
                .connect(tokio_postgres::NoTls)
                .await
                .map_err(|e| e.to_string())?;
            let conn = tokio::spawn(conn);
            let result = client.batch_execute(query).await.map_err(|e| e.to_string());
            drop(client);
            let _ = conn.await;
            result
        })
    }

    /// Whether `user` can log in with `password` and run `SELECT 1`.
    pub fn can_login(&self, user: &str, password: &str) -> bool {
        self.login(user, password, "SELECT 1").is_ok()
    }

    /// Panics unless the server log mentions `marker` (so statements are
    /// being logged at all) and holds none of `values`.
    pub fn assert_log_holds_none(&self, marker: &str, values: &[&str]) {
        let log = self.log_contents();
        assert!(
            log.contains(marker),
            "the server log should mention {marker} (is log_statement = 'all'?)"
        );
        for v in values {
            assert!(
                !log.contains(v),
                "the server log holds a plaintext password"
            );
        }
    }
}
