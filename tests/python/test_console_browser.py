"""The web console in a real headless Chromium (Debian's chromium + chromium-driver, driven by Selenium) against a
real `aimass serve --http-port` with MovieLens-100k deployed: a wrong token shows the error, a token from the
printed link logs in, the MovieLens model is listed, a new version is uploaded with progress and its metrics
shown, an alias is moved and the pool view follows the rollout live (no reload), recommendations come back with
the worker and version that served them; a reader's token sees no write control (upload, alias move, evaluate,
grants, deploy, scale, drain) and a write it is no longer allowed gets PERMISSION_DENIED; "Create a model" only for
a token that may; a tuned version's trials and an A/B split's click-through with intervals drawn as charts.

Screenshots of each page go to $AIMASS_ARTIFACT_DIR (default: a temporary directory, printed) for a human look."""
import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest

from console_support import DATA, MODEL, start_console, stop_console

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.chrome.options import Options  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# Generous bounds that only catch hangs (a replica loading ML-100k on a loaded 2-core machine is slow).
WAIT = 240
# The module's server deploys ML-100k before its first test: a bound for a loaded machine, against hangs only.
pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    c = start_console(tmp_path_factory.mktemp("console-browser"))
    yield c
    stop_console(c)


@pytest.fixture(scope="module")
def shots():
    directory = Path(os.environ.get("AIMASS_ARTIFACT_DIR") or tempfile.mkdtemp(prefix="aimass-console-shots-"))
    directory.mkdir(parents=True, exist_ok=True)
    print(f"\nconsole screenshots in {directory}")
    SHOTS["dir"] = directory
    return directory


@pytest.fixture
def browser(shots):
    for path in [CHROMIUM, CHROMEDRIVER]:
        if not shutil.which(path):
            pytest.fail(f"{path} is missing: scripts/install-deps.sh installs Debian's chromium and chromium-driver",
                        pytrace=False)
    options = Options()
    options.binary_location = CHROMIUM
    for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1600",
                 "--disable-gpu"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


SHOTS = {}


def wait(driver, condition, message):
    """Waits for `condition`; on a timeout saves a screenshot and says what the error banner showed."""
    try:
        return WebDriverWait(driver, WAIT).until(lambda d: condition(d), message)
    except TimeoutException:
        if "dir" in SHOTS:
            driver.save_screenshot(str(SHOTS["dir"] / ("FAILED-" + "".join(c if c.isalnum() else "-" for c in message) + ".png")))
        raise AssertionError(f"timed out: {message}; error banner: {text_of(driver, '#error')!r}; "
                             f"notice: {text_of(driver, '#notice')!r}") from None


def text_of(driver, css):
    """The text of the first element matching `css`, or "" (also when the page redrew it meanwhile)."""
    try:
        elements = driver.find_elements(By.CSS_SELECTOR, css)
        return elements[0].text if elements else ""
    except StaleElementReferenceException:
        return ""


def shot(driver, shots, name):
    driver.save_screenshot(str(shots / f"{name}.png"))


def test_wrong_token_shows_unauthenticated(console, browser, shots):
    browser.get(console.url + "#token=aimass_wrong")
    wait(browser, lambda d: "UNAUTHENTICATED" in text_of(d, "#error"), "the error banner shows UNAUTHENTICATED")
    assert browser.find_element(By.ID, "login").is_displayed()  # asked to log in again
    assert "token" not in browser.current_url  # the fragment with the token is dropped from the address
    shot(browser, shots, "01-wrong-token")
    # Logging in with the form and a wrong token says so too, and keeps the form.
    browser.find_element(By.ID, "token").send_keys("aimass_still_wrong")
    browser.find_element(By.CSS_SELECTOR, "#login-form button").click()
    wait(browser, lambda d: "UNAUTHENTICATED" in text_of(d, "#error") and d.find_element(By.ID, "login").is_displayed(),
         "the login form stays with the error")


def test_console_end_to_end(console, browser, shots, tmp_path):
    # Log in from the printed link; the MovieLens model is listed.
    browser.get(console.url + "#token=" + console.admin_token)
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, f'#models-table tr[data-model="{MODEL}"]'),
         "the models table lists MovieLens")
    # Read through text_of in a wait: the page may redraw between finding an element and reading it.
    row = f'#models-table tr[data-model="{MODEL}"]'
    wait(browser, lambda d: "movies" in text_of(d, row) and "production→v1" in text_of(d, row), "its tag and alias")
    assert browser.execute_script("return sessionStorage.getItem('aimass.token')") == console.admin_token
    shot(browser, shots, "02-models")
    browser.execute_script("window.__notReloaded = true")  # a reload would lose it

    # Search by tag that matches nothing, then by name.
    browser.find_element(By.ID, "search-tag").send_keys("books")
    browser.find_element(By.CSS_SELECTOR, "#search-form button").click()
    wait(browser, lambda d: d.find_elements(By.ID, "models-empty"), "a search with no match says so")
    browser.execute_script("location.hash = '#/models?name=movie'")
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, f'tr[data-model="{MODEL}"]'), "name search finds it")

    # The model page: versions, upload of a new version with progress, its metrics after evaluation.
    browser.find_element(By.LINK_TEXT, MODEL).click()
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, '#versions-table tr[data-version="1"]'), "v1 is listed")
    # Interactions and the items' attributes in one sectioned artifact: the titles come with them.
    artifact = tmp_path / "ml-100k-half.bundle"
    artifact.write_bytes(b"#%section interactions\n" + b"".join(DATA.read_bytes().splitlines(keepends=True)[:60000])
                         + b"#%section items\n" + (DATA.parent / "ml-100k.item").read_bytes())
    browser.find_element(By.ID, "upload-description").send_keys("60k interactions")
    browser.find_element(By.ID, "upload-file").send_keys(str(artifact))
    wait(browser, lambda d: "verified" in text_of(d, "#upload-status"), "the upload finishes with the sha256 checked")
    assert browser.find_element(By.ID, "upload-progress").get_attribute("value") == "100"
    assert "Uploaded v2" in text_of(browser, "#upload-status")
    shot(browser, shots, "03-uploaded")
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, '#versions-table tr[data-version="2"]'), "v2 is listed")
    for number in ["1", "2"]:
        browser.find_element(By.CSS_SELECTOR, f'#versions-table tr[data-version="{number}"] button.evaluate').click()
        cell = f'#versions-table tr[data-version="{number}"] td[data-metric="loo.hr@10"]'
        wait(browser, lambda d: text_of(d, cell).replace(".", "", 1).isdigit(), f"v{number}'s metrics appear")
    value = text_of(browser, '#versions-table tr[data-version="2"] td[data-metric="loo.hr@10"]')
    assert 0 < float(value) <= 1
    assert len(browser.find_elements(By.CSS_SELECTOR, "#metric-chart svg circle")) == 2  # one point per version
    # Diff v1 → v2.
    Select(browser.find_element(By.ID, "diff-old")).select_by_value("1")
    Select(browser.find_element(By.ID, "diff-new")).select_by_value("2")
    browser.find_element(By.CSS_SELECTOR, "#diff-form button").click()
    wait(browser, lambda d: "sha256" in text_of(d, "#diff-table"), "the diff lists the changed sha256")
    shot(browser, shots, "04-model-metrics-diff")

    # Move production to v2 here; the pool view (no reload) shows the deployment roll to v2.
    browser.find_element(By.ID, "alias-name").send_keys("production")
    Select(browser.find_element(By.ID, "alias-version")).select_by_value("2")
    browser.find_element(By.ID, "alias-reason").send_keys("more data")
    browser.find_element(By.CSS_SELECTOR, "#alias-form button").click()
    wait(browser, lambda d: "more data" in text_of(d, "#alias-history"), "the alias history shows the move and reason")
    browser.find_element(By.ID, "nav-pool").click()
    row = f'#deployments-table tr[data-deployment="{MODEL}@production"]'
    wait(browser, lambda d: text_of(d, row + " .serving-versions") == "v2" and "READY" in text_of(d, row),
         "the deployment rolls to v2 in the pool view")
    assert f"{MODEL}@production" in text_of(browser, "#event-log")  # the rollout's events, as they came
    assert browser.find_element(By.ID, "live").text == "live"
    wait(browser, lambda d: "SERVING" in text_of(d, "#workers .worker") and f"{MODEL}@v2" in text_of(d, "#workers .worker"),
         "the worker card shows the v2 replica")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#workers .worker")) == 1
    assert browser.execute_script("return window.__notReloaded === true")
    shot(browser, shots, "05-pool")

    # Try it: recommendations for user 196 from the production alias, served by v2.
    browser.find_element(By.ID, "nav-try").click()
    wait(browser, lambda d: d.find_elements(By.ID, "try-form"), "the try-it form")
    Select(browser.find_element(By.ID, "try-model")).select_by_visible_text(MODEL)
    browser.find_element(By.ID, "try-version").send_keys("production")
    browser.find_element(By.ID, "try-input").send_keys("196")
    k = browser.find_element(By.ID, "try-k")
    k.clear()
    k.send_keys("5")
    browser.find_element(By.CSS_SELECTOR, "#try-form button").click()
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#try-table tbody tr")) == 5, "five recommendations")
    assert "version v2" in text_of(browser, "#served-by") and "worker" in text_of(browser, "#served-by")
    assert "(history)" in text_of(browser, "#served-by"), "the path that served user 196"
    # Each item with its title, as MovieLens's item file gives it: "Name (year)".
    titles = [text_of(browser, f"#try-table tbody tr:nth-child({row}) td:nth-child(3)") for row in range(1, 6)]
    assert all(re.search(r"\(\d{4}\)$", title) for title in titles), titles
    shot(browser, shots, "06-try-it")
    assert browser.execute_script("return window.__notReloaded === true")

    # On a phone-sized screen the pool view still shows the deployment and the worker.
    browser.set_window_size(390, 844)
    browser.find_element(By.ID, "nav-pool").click()
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, row), "the pool view on a small screen")
    shot(browser, shots, "08-pool-phone")


def test_reader_token_sees_no_write_controls_and_gets_permission_denied(console, browser, shots):
    browser.get(console.url + "#token=" + console.reader_token)
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, f'tr[data-model="{MODEL}"]'), "the reader sees the model")
    assert text_of(browser, "#whoami") == "reader"  # who the token is, from /api/whoami
    browser.execute_script(f"location.hash = '#/models/{MODEL}'")
    wait(browser, lambda d: d.find_elements(By.ID, "read-only"), "the model page says it is read-only for this token")
    # The reader reads everything and finds no control that would fail.
    assert browser.find_elements(By.CSS_SELECTOR, '#versions-table tr[data-version="1"]')
    assert browser.find_elements(By.ID, "alias-history") and browser.find_elements(By.ID, "permissions-table")
    for control in ["alias-form", "upload-drop", "upload-file", "grant-form"]:
        assert not browser.find_elements(By.ID, control), f"{control} is shown to a reader"
    assert not browser.find_elements(By.CSS_SELECTOR, "button.evaluate")
    assert "null" not in browser.find_element(By.ID, "view").text.split()  # a left-out card leaves nothing behind
    shot(browser, shots, "07-reader-model")
    browser.find_element(By.ID, "nav-pool").click()
    row = f'#deployments-table tr[data-deployment="{MODEL}@production"]'
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, row) and d.find_elements(By.CSS_SELECTOR, "#workers .worker"),
         "the reader's pool view")
    wait(browser, lambda d: not d.find_element(By.ID, "deploy-card").is_displayed(), "no deploy form for a reader")
    assert not browser.find_elements(By.CSS_SELECTOR, row + " .scale-form")  # no scale or undeploy
    assert not browser.find_elements(By.CSS_SELECTOR, "#workers button")  # no drain or uncordon
    shot(browser, shots, "09-reader-pool")

    # Granted WRITER, the reader's next visit shows the write controls; demoted again while the page is open, the
    # reader's write gets PERMISSION_DENIED from the server, shown in plain words.
    console.cli("model", "grant", MODEL, "user:reader", "writer")
    try:
        browser.refresh()
        browser.execute_script(f"location.hash = '#/models/{MODEL}'")
        wait(browser, lambda d: d.find_elements(By.ID, "alias-form") and d.find_elements(By.ID, "upload-drop"),
             "a writer gets the alias form and the upload area")
        assert not browser.find_elements(By.ID, "grant-form")  # permissions need OWNER
    finally:
        console.cli("model", "grant", MODEL, "user:reader", "reader")
    browser.find_element(By.ID, "alias-name").send_keys("production")
    browser.find_element(By.ID, "alias-reason").send_keys("reader tries")
    browser.find_element(By.CSS_SELECTOR, "#alias-form button").click()
    wait(browser, lambda d: "PERMISSION_DENIED" in text_of(d, "#error"), "the error banner shows PERMISSION_DENIED")
    assert "higher role" in text_of(browser, "#error")  # and says it in plain words
    shot(browser, shots, "10-reader-denied")

    # Dropping a file on the upload area (a real drop event with a DataTransfer): the reader may not upload.
    versions_before = len(browser.find_elements(By.CSS_SELECTOR, "#versions-table tbody tr"))
    browser.execute_script("""
        const data = new DataTransfer();
        data.items.add(new File(["196\\t242\\t3\\t881250949\\n"], "dropped.inter"));
        document.getElementById("upload-drop").dispatchEvent(
            new DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true }));""")
    wait(browser, lambda d: "nothing was stored" in text_of(d, "#upload-status"), "the failed upload says so")
    assert "PERMISSION_DENIED" in text_of(browser, "#error")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#versions-table tbody tr")) == versions_before


def test_create_model_only_for_tokens_that_may(console, browser, shots):
    """"Create a model" is offered to a token CreateModel accepts (Access.WhoAmI's may_create_models): the admin's
    and the reader user's own unscoped token, not a token capped at reader."""
    capped = console.cli("token", "create", "--user", "reader", "--role", "reader").stdout.strip().splitlines()[-1]
    for token, offered in [(console.admin_token, True), (console.reader_token, True), (capped, False)]:
        browser.get("about:blank")  # a new page load, so that the token of the fragment is the one used
        browser.get(console.url + "#token=" + token)
        wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, f'tr[data-model="{MODEL}"]'), "the models page")
        assert bool(browser.find_elements(By.ID, "create-form")) == offered, (token == capped, offered)
    shot(browser, shots, "13-reader-capped-no-create")


def test_tuning_trials_and_ab_outcomes_as_charts(console, browser, shots, tmp_path):
    """A version made by `aimass tune` shows each trial's holdout P@10 in the order the search ran them, the chosen
    trial ringed; with an A/B split on the alias, click-through per served version is drawn as two bars with their
    Wilson 95% intervals, the figures of `aimass ab report`."""
    import json
    # Four holdout evaluations of ML-100k: a bound for a loaded machine, against hangs only.
    tuned = json.loads(console.cli("tune", "--model", MODEL, "--version", "1", "--budget", "4", "--json",
                                   timeout=600).stdout)
    trials, number = tuned["trials"], tuned["version"]
    assert len(trials) == 4 and number > 1
    chosen = next(i for i, t in enumerate(trials) if t["manifest"] == tuned["manifest"]) + 1
    metric = "holdout.precision@10"

    browser.get(console.url + "#token=" + console.admin_token)
    browser.execute_script(f"location.hash = '#/models/{MODEL}'")
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#tune-chart svg"), "the tuning card")
    Select(browser.find_element(By.ID, "tune-version")).select_by_value(str(number))
    assert Select(browser.find_element(By.ID, "tune-metric")).first_selected_option.text == metric
    points = browser.find_elements(By.CSS_SELECTOR, "#tune-chart svg circle.trial")
    assert len(points) == len(trials)  # one point per trial the CLI ran
    values = {int(p.get_attribute("data-trial")): float(p.get_attribute("data-value")) for p in points}
    assert values == {i + 1: t["metrics"][metric] for i, t in enumerate(trials)}
    ringed = browser.find_elements(By.CSS_SELECTOR, "#tune-chart svg circle.chosen")
    assert len(ringed) == 1 and int(ringed[0].get_attribute("data-trial")) == chosen
    assert f"chosen trial {chosen}" in text_of(browser, "#tune-summary")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#tune-trials tbody tr")) == len(trials)
    browser.execute_script("document.getElementById('tuning-card').scrollIntoView()")
    shot(browser, shots, "14-tuning-trials")

    # A 50/50 split of production with the tuned version, and feedback served by each: 40 views and 6 clicks for
    # the alias's version, 30 views and 9 clicks for the challenger.
    champion = console.request("GET", f"/api/models/{MODEL}")[1]["aliases"]["production"]
    console.cli("ab", "split", "--model", MODEL, "--alias", "production", "--challenger", number, "--percent", "50")
    try:
        lines = []
        for version, views, clicks in [(champion, 40, 6), (number, 30, 9)]:
            lines += [f"ab{version}-{i}\t{1 + i}\tview\t1\t{version}" for i in range(views)]
            lines += [f"ab{version}-{i}\t{1 + i}\tclick\t1\t{version}" for i in range(clicks)]
        events = tmp_path / "ab.tsv"
        events.write_text("\n".join(lines) + "\n")
        console.cli("feedback", "send", "--model", MODEL, events)
        report = {r["version"]: r for r in json.loads(console.cli("ab", "report", "--model", MODEL, "--json").stdout)["versions"]}
        browser.refresh()
        wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#ab-chart svg rect.ctr-bar")) >= 2,
             "the A/B chart's bars")
        assert f"production: v{champion} 50% · v{number} 50%" in text_of(browser, "#ab-splits")
        groups = browser.find_elements(By.CSS_SELECTOR, "#ab-chart svg g.ab-version")
        drawn = {int(g.get_attribute("data-version")): g for g in groups}
        assert set(drawn) == set(report) == {champion, number}
        for version, role, views, clicks in [(champion, "champion", 40, 6), (number, "challenger", 30, 9)]:
            group = drawn[version]
            assert role in group.get_attribute("class")
            assert (int(group.get_attribute("data-views")), int(group.get_attribute("data-clicks"))) == (views, clicks)
            bar = group.find_element(By.CSS_SELECTOR, "rect.ctr-bar")
            assert float(bar.get_attribute("data-ctr")) == report[version]["click_through"] == clicks / views
            interval = group.find_elements(By.CSS_SELECTOR, "line.interval")
            assert len(interval) == 1
            low, high = float(interval[0].get_attribute("data-low")), float(interval[0].get_attribute("data-high"))
            assert [low, high] == report[version]["click_through_ci95"] and low < clicks / views < high
            # The whisker spans the bar's top: drawn from low to high around the click-through; the bar stands on the
            # axis (its rendered height is its value's, not a stylesheet's).
            assert float(interval[0].get_attribute("y1")) > float(bar.get_attribute("y")) > float(interval[0].get_attribute("y2"))
            assert bar.size["height"] > 20, bar.size
        assert len(browser.find_elements(By.CSS_SELECTOR, "#ab-results tbody tr")) == 2
        browser.execute_script("document.getElementById('ab-card').scrollIntoView()")
        shot(browser, shots, "15-ab-outcomes")
    finally:
        console.cli("ab", "split", "--model", MODEL, "--alias", "production", "--percent", "0")
