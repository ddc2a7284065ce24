//! `rotor-demo-app --env-file .env [--var JWT_SECRET] [--listen 127.0.0.1:8080] [--pid-file app.pid]`

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut env_file = PathBuf::from(".env");
    let mut var = "JWT_SECRET".to_owned();
    let mut listen = "127.0.0.1:8080".to_owned();
    let mut pid_file: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "--env-file" => env_file = PathBuf::from(value()?),
            "--var" => var = value()?,
            "--listen" => listen = value()?,
            "--pid-file" => pid_file = Some(PathBuf::from(value()?)),
            "-h" | "--help" => {
                println!("rotor-demo-app --env-file .env [--var JWT_SECRET] [--listen 127.0.0.1:8080] [--pid-file app.pid]");
                return Ok(());
            }
            other => anyhow::bail!("unknown argument {other}; see --help"),
        }
    }
    let app = Arc::new(
        rotor_demo_app::App::new(&env_file, &var)
            .with_context(|| format!("cannot load {var} from {}", env_file.display()))?,
    );
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    if let Some(p) = &pid_file {
        std::fs::write(p, format!("{}\n", std::process::id()))
            .with_context(|| format!("cannot write {}", p.display()))?;
    }
    println!("listening on {}", listener.local_addr()?);
    rotor_demo_app::serve(listener, app).await?;
    Ok(())
}
