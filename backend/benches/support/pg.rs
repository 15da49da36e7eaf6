//! A fresh PostgreSQL schema per benchmark run (so each run starts empty and leaves
//! nothing behind), shared by the backend's benchmarks.

/// Creates a schema in the database at `base`; returns the URL that uses it and its name.
pub async fn fresh_schema(base: &str) -> (String, String) {
    let (client, connection) = tokio_postgres::connect(base, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let name = format!("fk_bench_{}", uuid::Uuid::new_v4().simple());
    client
        .batch_execute(&format!("CREATE SCHEMA {name}"))
        .await
        .unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    (format!("{base}{sep}options=-csearch_path%3D{name}"), name)
}

/// Drops the schema `name` made by [`fresh_schema`].
pub async fn drop_schema(base: &str, name: &str) {
    let (client, connection) = tokio_postgres::connect(base, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let _ = client
        .batch_execute(&format!("DROP SCHEMA {name} CASCADE"))
        .await;
}
