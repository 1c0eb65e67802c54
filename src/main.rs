//! The `mychat` command: parse the configuration, then serve, back up, or administer.

use mychat::config::{self, Invocation};
use std::process::ExitCode;

fn main() -> ExitCode {
    let invocation = config::parse(std::env::args().skip(1), |key| std::env::var(key).ok());
    let result = match invocation {
        Err(message) => {
            eprintln!("mychat: {message}");
            return ExitCode::from(2);
        }
        Ok(Invocation::Help) => {
            print!("{}", config::usage());
            return ExitCode::SUCCESS;
        }
        Ok(Invocation::Version) => {
            println!("mychat {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Ok(Invocation::Serve(config)) => {
            mychat::logger::init(config.log_level);
            mychat::server::run(config)
        }
        Ok(Invocation::Backup(config, dest)) => {
            mychat::logger::init(config.log_level);
            mychat::backup::run(&config, &dest)
        }
        Ok(Invocation::Admin(config, command)) => {
            mychat::logger::init(config.log_level);
            mychat::console::run(&config, &command)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("mychat: {message}");
            ExitCode::FAILURE
        }
    }
}
