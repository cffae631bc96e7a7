//! Writes the fixture logs of `testkit::fixtures::all()` to `testkit/fixtures/<name>.eflog`.

fn main() -> std::io::Result<()> {
    let dir = testkit::fixtures::fixtures_dir();
    std::fs::create_dir_all(&dir)?;
    for (name, log) in testkit::fixtures::all() {
        let path = dir.join(format!("{name}.eflog"));
        std::fs::write(&path, events::log_format::encode_log(&log.records()))?;
        println!("wrote {} ({} events)", path.display(), log.records().len());
    }
    Ok(())
}
