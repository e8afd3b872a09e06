//! The sign-in page.

use maud::{DOCTYPE, Markup, html};

/// The sign-in form with its CSRF token, and the reason of a refused attempt.
pub(crate) fn form(csrf: &str, refusal: Option<&str>) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Sign in · Sync console" }
                link rel="stylesheet" href="/static/console.css";
            }
            body data-test="page-sign-in" {
                main #main.narrow {
                    h1 #page-title { "Sign in" }
                    @if let Some(refusal) = refusal {
                        p #sign-in-error.banner.error data-test="sign-in-error" { (refusal) }
                    }
                    form #sign-in-form method="post" action="/sign-in" {
                        input type="hidden" name="csrf" value=(csrf);
                        label for="name" { "Name" }
                        input #name type="text" name="name" autocomplete="username" required;
                        label for="password" { "Password" }
                        input #password type="password" name="password" autocomplete="current-password" required;
                        button #sign-in type="submit" { "Sign in" }
                    }
                }
            }
        }
    }
}
