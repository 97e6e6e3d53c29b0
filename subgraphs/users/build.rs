// sqlx::migrate! embeds the migration files at compile time, but cargo does not know about them:
// without this, a new migration under a warm target directory would not be compiled in.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations/users");
}
