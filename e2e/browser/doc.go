// Package browser holds the end-to-end tests that look at orderbus the way
// a person does: in headless Chromium (Debian's chromium package, driven
// with chromedp), against a system started by the launcher. They open
// Mailpit's web UI and find an order's receipt, and open the live console
// and watch an order's journey and a stopped consumer's backlog. Each test
// saves screenshots under test-artifacts/ in the repository root, or
// $ORDERBUS_ARTIFACTS.
//
// Without Chromium (/usr/bin/chromium, or $ORDERBUS_CHROMIUM) the tests
// skip; with CI=true they fail instead. `make browser` installs it.
package browser
