//! The axum counter as one Lambda function, or, without a Lambda runtime around it, a plain
//! local server on `PORT` (3000 by default).

use arc_functions::axum::SessionLayer;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    // The configuration is read once, here: an invalid one stops the start with its reason.
    let layer = SessionLayer::from_env()?;
    layer.store().prepare().await;
    let app = example_axum_counter::app(layer);
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        arc_functions::axum::run(app).await
    } else {
        let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port.parse::<u16>()?)).await?;
        println!("http://{}", listener.local_addr()?);
        axum::serve(listener, app).await?;
        Ok(())
    }
}
