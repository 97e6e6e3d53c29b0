//! The configuration's layering, its checks and its messages.

use super::*;
use figment::providers::Yaml;

fn from_yaml(yaml: &str) -> Result<Config, ConfigError> {
    Config::from_figment(Figment::new().merge(Yaml::string(yaml)))
}

#[test]
fn defaults_put_the_router_on_4000_and_subgraphs_on_4001_to_4005() {
    let c = from_yaml("").expect("defaults are valid");
    assert_eq!(c.router.listen.port(), 4000);
    let ports: Vec<u16> = SUBGRAPHS.iter().map(|s| c.subgraph(s).listen.port()).collect();
    assert_eq!(ports, [4001, 4002, 4003, 4004, 4005]);
    assert_eq!(c.jwks_url().as_str(), "http://127.0.0.1:4001/.well-known/jwks.json");
}

#[test]
fn an_unknown_key_fails_with_a_message_naming_it() {
    let err = from_yaml("auth:\n  databse_url: postgres://x@localhost/db\n").expect_err("typo must fail");
    assert!(err.to_string().contains("databse_url"), "{err}");
}

#[test]
fn a_malformed_url_fails_with_a_message_naming_the_key() {
    let err = from_yaml("users:\n  database_url: 'not a url'\n").expect_err("bad URL must fail");
    let msg = err.to_string();
    assert!(msg.contains("database_url") && msg.contains("not a valid URL"), "{msg}");
}

#[test]
fn environment_variables_override_the_file_and_are_named_in_errors() {
    figment::Jail::expect_with(|jail| {
        jail.create_file("tessera.yaml", "log_format: json\n")?;
        jail.set_env("TESSERA_ORDERS__POOL_SIZE", "3");
        let c = Config::load(Some(std::path::Path::new("tessera.yaml")), None).expect("valid");
        assert_eq!(c.log_format, LogFormat::Json);
        assert_eq!(c.orders.pool_size, 3);

        jail.set_env("TESSERA_ORDERS__POOL_SIZE", "lots");
        let err = Config::load(None, None).expect_err("not a number");
        assert!(err.to_string().contains("pool_size"), "{err}");
        assert!(err.to_string().contains("TESSERA_ORDERS__POOL_SIZE"), "{err}");
        Ok(())
    });
}

#[test]
fn cors_origins_come_as_one_comma_separated_variable_or_as_a_list() {
    figment::Jail::expect_with(|jail| {
        jail.set_env("TESSERA_ROUTER__CORS__ALLOW_ORIGINS", "http://localhost:3000");
        assert_eq!(Config::load(None, None).expect("valid").router.cors.allow_origins, ["http://localhost:3000"]);
        jail.set_env("TESSERA_ROUTER__CORS__ALLOW_ORIGINS", "http://localhost:3000, https://shop.example");
        let origins = Config::load(None, None).expect("valid").router.cors.allow_origins;
        assert_eq!(origins, ["http://localhost:3000", "https://shop.example"]);
        jail.set_env("TESSERA_ROUTER__CORS__ALLOW_ORIGINS", r#"["https://a.example","https://b.example"]"#);
        let origins = Config::load(None, None).expect("valid").router.cors.allow_origins;
        assert_eq!(origins, ["https://a.example", "https://b.example"]);
        Ok(())
    });
}

#[test]
fn the_production_profile_turns_introspection_off_unless_told_otherwise() {
    figment::Jail::expect_with(|jail| {
        jail.set_env("TESSERA_PROFILE", "production");
        let c = Config::load(None, None).expect("valid");
        assert!(!c.router.introspection);
        assert_eq!(c.log_format, LogFormat::Json);
        assert!(c.identity.require_verified_email, "production signs in verified emails only");
        jail.set_env("TESSERA_ROUTER__INTROSPECTION", "true");
        assert!(Config::load(None, None).expect("valid").router.introspection, "an explicit setting wins");
        Ok(())
    });
    assert!(from_yaml("").expect("valid").router.introspection, "dev keeps it on");
}

#[test]
fn plain_database_url_applies_to_the_served_subgraph_only() {
    figment::Jail::expect_with(|jail| {
        jail.set_env("DATABASE_URL", "postgres://u:pw@127.0.0.1/orders");
        let c = Config::load(None, Some("orders")).expect("valid");
        assert!(c.orders.database_url.is_some());
        assert!(c.auth.database_url.is_none());
        Ok(())
    });
}

#[test]
fn smtp_url_sets_the_mail_server_and_its_password_never_prints() {
    figment::Jail::expect_with(|jail| {
        jail.set_env("SMTP_URL", "smtps://mailer:hunter22@smtp.example.com");
        let c = Config::load(None, None).expect("valid");
        let url = c.delivery.smtp_url.as_ref().expect("set from SMTP_URL");
        assert_eq!(url.scheme(), "smtps");
        assert!(!format!("{c:?}").contains("hunter22"));
        Ok(())
    });
    assert!(from_yaml("").expect("valid").delivery.smtp_url.is_none(), "unset: the .eml sink");
}

#[test]
fn a_database_password_never_prints() {
    let c = from_yaml("auth:\n  database_url: postgres://u:supersecret@localhost/auth\n").expect("valid");
    assert!(!format!("{c:?}").contains("supersecret"));
}
