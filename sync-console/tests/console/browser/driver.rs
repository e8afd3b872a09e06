//! Chromium through `chromedriver`: finding the tools, one driver per test (stopped on drop),
//! a browser session with a fresh profile, and the page helpers the scenarios use.

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use futures_util::FutureExt;
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

use crate::support::Harness;

/// How long a page may take to show what a scenario waits for (the engine's work, a
/// navigation). Generous: the machine may be busy; a scenario that meets it goes on at once.
const PATIENCE: Duration = Duration::from_secs(60);
/// The browser window (and so the screenshots).
const WINDOW: (u32, u32) = (1280, 900);

/// One browser at a time: Chromium is heavy and the tests of the binary run in parallel.
static ONE_BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
static NEXT: AtomicUsize = AtomicUsize::new(0);

/// Where Chromium and its driver are.
pub struct Tools {
    chromium: PathBuf,
    chromedriver: PathBuf,
}

fn find_tool(variable: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(variable) {
        return Some(PathBuf::from(path));
    }
    let dirs = std::env::var_os("PATH")?;
    names.iter().find_map(|name| {
        std::env::split_paths(&dirs)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    })
}

/// Chromium and chromedriver, or `None` (with a note) when either is missing; with `CI` set a
/// missing tool fails the test instead.
pub fn tools() -> Option<Tools> {
    let chromium = find_tool(
        "CHROMIUM",
        &["chromium", "chromium-browser", "google-chrome"],
    );
    let chromedriver = find_tool("CHROMEDRIVER", &["chromedriver"]);
    match (chromium, chromedriver) {
        (Some(chromium), Some(chromedriver)) => Some(Tools {
            chromium,
            chromedriver,
        }),
        (chromium, chromedriver) => {
            let missing: Vec<&str> = [
                chromium.is_none().then_some("chromium"),
                chromedriver.is_none().then_some("chromedriver"),
            ]
            .into_iter()
            .flatten()
            .collect();
            let missing = missing.join(" and ");
            if std::env::var_os("CI").is_some() {
                panic!(
                    "{missing} not installed (CI is set): .ci/run installs Debian's chromium and \
                     chromium-driver (or set CHROMIUM and CHROMEDRIVER)"
                );
            }
            eprintln!(
                "skipped: {missing} not found (apt-get install chromium chromium-driver, or set \
                 CHROMIUM and CHROMEDRIVER)"
            );
            None
        }
    }
}

/// Where screenshots are kept: `console-screenshots` in the target directory.
pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_TARGET_TMPDIR"))
                .parent()
                .expect("the target directory")
                .to_path_buf()
        });
    target.join("console-screenshots")
}

/// A running `chromedriver` in its own process group, with a scratch directory for its log and
/// the browser's profile; the group is killed and the directory removed on drop.
struct ChromeDriver {
    child: Child,
    url: String,
    dir: PathBuf,
}

impl ChromeDriver {
    async fn start(tools: &Tools) -> ChromeDriver {
        let dir = std::env::temp_dir().join(format!(
            "sync-console-browser-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let log = std::fs::File::create(dir.join("chromedriver.log")).unwrap();
        let child = {
            use std::os::unix::process::CommandExt;
            Command::new(&tools.chromedriver)
                .arg(format!("--port={port}"))
                .arg("--allowed-ips=127.0.0.1")
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .process_group(0)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", tools.chromedriver.display()))
        };
        let mut driver = ChromeDriver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            dir,
        };
        driver.wait_ready().await;
        driver
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("chromedriver.log")).unwrap_or_default()
    }

    async fn wait_ready(&mut self) {
        let http = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("chromedriver exited ({status}):\n{}", self.log());
            }
            let ready = match http.get(format!("{}/status", self.url)).send().await {
                Ok(r) => r
                    .json::<serde_json::Value>()
                    .await
                    .is_ok_and(|v| v["value"]["ready"] == true),
                Err(_) => false,
            };
            if ready {
                return;
            }
            assert!(
                started.elapsed() < PATIENCE,
                "chromedriver did not get ready:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A session in a new headless Chromium with a fresh profile.
    async fn session(&self, tools: &Tools) -> Client {
        let profile = self.dir.join("profile");
        let (width, height) = WINDOW;
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": tools.chromium,
                "args": [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--disable-quic",
                    "--no-first-run",
                    "--hide-scrollbars",
                    format!("--window-size={width},{height}"),
                    format!("--user-data-dir={}", profile.display()),
                ],
            },
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            unreachable!("an object")
        };
        ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("no browser session: {e}\n{}", self.log()))
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        // The driver and every browser process it started share its process group.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A signed-in (or not yet) browser on the console at `base`.
pub struct Browser {
    client: Client,
    base: String,
    scenario: &'static str,
}

impl Browser {
    /// The WebDriver client itself.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Opens `path` of the console.
    pub async fn open(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap_or_else(|e| panic!("cannot open {path}: {e}"));
    }

    /// The page's name (`data-test` of its body: `page-home`, `page-sign-in`, ...).
    pub async fn page(&self) -> String {
        self.attrs("body", "data-test")
            .await
            .pop()
            .unwrap_or_default()
    }

    /// The visible text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        let element = match self.client.find(Locator::Css(css)).await {
            Ok(element) => element,
            Err(e) => panic!("no {css} on {}: {e}", self.page().await),
        };
        element.text().await.unwrap().trim().to_owned()
    }

    /// The visible texts of every element matching `css`.
    pub async fn texts(&self, css: &str) -> Vec<String> {
        let mut texts = Vec::new();
        for element in self.client.find_all(Locator::Css(css)).await.unwrap() {
            texts.push(element.text().await.unwrap().trim().to_owned());
        }
        texts
    }

    /// Attribute `name` of every element matching `css` that has it.
    pub async fn attrs(&self, css: &str, name: &str) -> Vec<String> {
        let mut values = Vec::new();
        for element in self.client.find_all(Locator::Css(css)).await.unwrap() {
            values.extend(element.attr(name).await.unwrap());
        }
        values
    }

    /// How many elements match `css`.
    pub async fn count(&self, css: &str) -> usize {
        self.client.find_all(Locator::Css(css)).await.unwrap().len()
    }

    /// Whether an element matches `css`.
    pub async fn exists(&self, css: &str) -> bool {
        self.count(css).await > 0
    }

    /// Types `text` into the field `css`, replacing what it held.
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no field {css}: {e}"));
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    /// Chooses the option `value` of the list `css`.
    pub async fn select(&self, css: &str, value: &str) {
        self.element(&format!("{css} option[value=\"{value}\"]"))
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("cannot choose {value} in {css}: {e}"));
    }

    async fn element(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("nothing at {css}: {e}"))
    }

    /// Clicks the link or button `css` and waits for the page it opens: the old page's
    /// document is gone (its element reference goes stale) and the new one is loaded.
    pub async fn click(&self, css: &str) {
        let old = self.element("html").await;
        self.element(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("cannot click {css}: {e}"));
        let started = Instant::now();
        while old.attr("lang").await.is_ok() {
            assert!(
                started.elapsed() < PATIENCE,
                "clicking {css} opened no page"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.wait_loaded().await;
    }

    /// Waits until the current document has finished loading.
    async fn wait_loaded(&self) {
        let started = Instant::now();
        loop {
            let state = self
                .client
                .execute("return document.readyState;", Vec::new())
                .await;
            if state.is_ok_and(|s| s == "complete") {
                return;
            }
            assert!(
                started.elapsed() < PATIENCE,
                "the page never finished loading"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until the page is `page` (after a form submitted by script).
    pub async fn wait_for_page(&self, page: &str) {
        let started = Instant::now();
        while self.page().await != page {
            assert!(
                started.elapsed() < PATIENCE,
                "the browser never showed {page}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Reloads the page until `shown` holds: what the engine does in the background appears on
    /// the next load.
    pub async fn refresh_until(&self, what: &str, shown: impl AsyncFn() -> bool) {
        let started = Instant::now();
        while !shown().await {
            assert!(
                started.elapsed() < PATIENCE,
                "the page never showed that {what}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
            self.client.refresh().await.unwrap();
        }
    }

    /// Saves the window as `<scenario>-<step>.png` in [`screenshot_dir`].
    pub async fn screenshot(&self, step: &str) {
        let png = self.client.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{}-{step}.png", self.scenario));
        std::fs::write(&path, png).unwrap();
    }
}

/// Runs `scenario` in a fresh browser on the console at `base`. The session is closed and the
/// driver stopped whatever happens; a failing scenario leaves `<scenario>-failed.png`.
pub async fn run_with(
    tools: &Tools,
    scenario: &'static str,
    base: &str,
    body: impl AsyncFnOnce(&Browser),
) {
    let _turn = ONE_BROWSER.lock().await;
    let driver = ChromeDriver::start(tools).await;
    let browser = Browser {
        client: driver.session(tools).await,
        base: base.to_owned(),
        scenario,
    };
    let outcome = AssertUnwindSafe(body(&browser)).catch_unwind().await;
    if outcome.is_err()
        && let Ok(png) = browser.client.screenshot().await
    {
        let dir = screenshot_dir();
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(dir.join(format!("{scenario}-failed.png")), png);
    }
    let _ = browser.client.close().await;
    drop(driver);
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// Runs `scenario` in a fresh browser on the seeded test console ([`Harness`]); skipped when
/// the browser tools are missing (see [`tools`]).
pub async fn in_browser<F>(scenario: &'static str, body: F)
where
    F: AsyncFnOnce(&Browser, &Harness),
{
    let Some(tools) = tools() else {
        return;
    };
    let harness = Harness::start().await;
    run_with(&tools, scenario, &harness.base, async |b: &Browser| {
        body(b, &harness).await
    })
    .await;
}
