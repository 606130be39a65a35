//! `/admin/users`: administrators list, create, (de)activate and change the role of users, and
//! revoke every credential of one. Everyone else gets a 403 page. The page is rendered on the
//! server with plain HTML forms: each posts to its server function, which sends the browser
//! back here saying what happened; it needs no WebAssembly.

use crate::domain::accounts::{Role, User};
use crate::pages::components::{field_error, posted_error, AdminContent, FormAlert, TextField};
use crate::time::LocalTime;
use crate::web::page_error::AppError;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

/// What the page says after a plain form post: `?created=NAME` or `?revoked=NAME`.
const CREATED: &str = "created";
const REVOKED: &str = "revoked";

/// What creating or changing a user answers: that user, and the list as it now stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserChanged {
    pub user: User,
    pub users: Vec<User>,
}

#[cfg(feature = "ssr")]
async fn all_users() -> Result<Vec<User>, AppError> {
    let users = crate::web::context::state().store.list_users().await?;
    Ok(users.into_iter().map(User::from).collect())
}

/// Every user, and which of them is the administrator asking.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserListing {
    pub me: i64,
    pub users: Vec<User>,
}

#[server(prefix = "/rpc", endpoint = "admin_list_users")]
pub async fn list_users() -> Result<UserListing, AppError> {
    let me = crate::web::context::admin()?.user.id;
    Ok(UserListing {
        me,
        users: all_users().await?,
    })
}

#[server(prefix = "/rpc", endpoint = "admin_create_user")]
pub async fn admin_create_user(
    username: String,
    display_name: String,
    password: String,
    role: String,
    email: Option<String>,
) -> Result<UserChanged, AppError> {
    use crate::accounts::service::AccountForm;

    crate::web::context::admin()?;
    let state = crate::web::context::state();
    let role = Role::parse(&role).ok_or_else(|| AppError::field("role", "Choose a role."))?;
    let email = state
        .notifications()
        .email_for_new_user(email.as_deref().unwrap_or(""))?;
    let form = AccountForm {
        username: &username,
        display_name: &display_name,
        password: &password,
        role,
    };
    let user = state
        .accounts()
        .create_user(form, &crate::web::context::origin())
        .await?;
    if let Some(email) = email {
        state.notifications().set_email(user.id, &email).await?;
    }
    crate::web::context::back_to_form(&format!("/admin/users?{CREATED}={}", user.username));
    Ok(UserChanged {
        user: user.into(),
        users: all_users().await?,
    })
}

/// `revoke_tokens` is the Deactivate form's checkbox: present (checked) revokes the user's
/// personal access tokens too.
#[server(prefix = "/rpc", endpoint = "admin_update_user")]
pub async fn update_user(
    id: i64,
    active: Option<bool>,
    role: Option<String>,
    revoke_tokens: Option<String>,
) -> Result<UserChanged, AppError> {
    use crate::accounts::service::AccessRequest;
    use crate::domain::problem::Kind;
    let admin = crate::web::context::admin()?;
    let role = match role.as_deref() {
        None | Some("") => None,
        Some(text) => {
            let unknown = || AppError::refused(Kind::Invalid, "Unknown role.");
            Some(Role::parse(text).ok_or_else(unknown)?)
        }
    };
    let request = AccessRequest {
        active,
        role,
        revoke_tokens: Some(revoke_tokens.is_some()),
    };
    let user = crate::web::context::state()
        .accounts()
        .change_access(admin.user.id, id, request, &crate::web::context::origin())
        .await?;
    crate::web::context::back_to_form("/admin/users");
    Ok(UserChanged {
        user: user.into(),
        users: all_users().await?,
    })
}

/// Ends every session and access token of a user and revokes their personal access tokens.
#[server(prefix = "/rpc", endpoint = "admin_revoke_credentials")]
pub async fn revoke_credentials(id: i64) -> Result<UserChanged, AppError> {
    use crate::domain::problem::Kind;
    let admin = crate::web::context::admin()?;
    let state = crate::web::context::state();
    state
        .accounts()
        .revoke_credentials(admin.user.id, id, &crate::web::context::origin())
        .await?;
    let user = state
        .store
        .user_by_id(id)
        .await?
        .ok_or_else(|| AppError::refused(Kind::NotFound, "That user no longer exists."))?;
    crate::web::context::back_to_form(&format!("/admin/users?{REVOKED}={}", user.username));
    Ok(UserChanged {
        user: user.into(),
        users: all_users().await?,
    })
}

#[component]
pub fn AdminUsersPage() -> impl IntoView {
    crate::pages::components::forbid_non_admins();
    let users = Resource::new(|| (), |_| list_users());
    view! {
        <Title text="Users" />
        <p class="eyebrow">"Admin"</p>
        <h1>"Users"</h1>
        <AdminContent data=users forbidden="Only administrators can manage users." show=|listing| view! { <UserAdministration listing /> } />
    }
}

/// The user table and the form to create one.
#[component]
fn UserAdministration(listing: UserListing) -> impl IntoView {
    let create_error = Signal::stored(posted_error(AdminCreateUser::PATH));
    let change_error = Signal::stored(
        posted_error(UpdateUser::PATH).or_else(|| posted_error(RevokeCredentials::PATH)),
    );
    let query = use_query_map();
    let notice = |key: &str| query.with_untracked(|q| q.get(key));
    let created = notice(CREATED).filter(|_| create_error.with_untracked(Option::is_none));
    let revoked = notice(REVOKED).filter(|_| change_error.with_untracked(Option::is_none));
    view! {
        <FormAlert error=change_error />
        {revoked.map(|name| view! {
            <div class="alert success" role="status">
                {format!("Every session, access token and personal access token of {name} is revoked.")}
            </div>
        })}
        <div class="table-wrap">
            <table class="data">
                <thead>
                    <tr>
                        <th scope="col">"User"</th>
                        <th scope="col">"Role"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Created"</th>
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {listing.users.into_iter().map(|user| {
                        let is_me = user.id == listing.me;
                        view! { <UserRowView user is_me /> }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        <section class="card" aria-labelledby="new-user-heading">
            <h2 id="new-user-heading">"Create a user"</h2>
            <FormAlert error=create_error />
            {created.map(|name| view! {
                <div class="alert success" role="status">{format!("Created {name}.")}</div>
            })}
            <form method="post" action=AdminCreateUser::url()>
                <div class="grid-2">
                    <TextField label="Username" name="username" required=true maxlength=64
                        autocomplete="off" error=field_error(create_error, "username") />
                    <TextField label="Display name" name="display_name" maxlength=100
                        autocomplete="off" error=field_error(create_error, "display_name") />
                    <TextField label="Initial password" name="password" kind="password" required=true
                        autocomplete="new-password" maxlength=256 help="At least 8 characters."
                        error=field_error(create_error, "password") />
                    <TextField label="E-mail address" name="email" kind="email"
                        autocomplete="off" help="Optional. Verified by a link before Patio mails anything else."
                        error=field_error(create_error, "email") />
                    <div class="field">
                        <label for="field-role">"Role"</label>
                        <select id="field-role" name="role">
                            <option value="user" selected>"User"</option>
                            <option value="admin">"Administrator"</option>
                        </select>
                    </div>
                </div>
                <div class="form-actions">
                    <button type="submit" class="button">"Create user"</button>
                </div>
            </form>
        </section>
    }
}

#[component]
fn UserRowView(user: User, is_me: bool) -> impl IntoView {
    let (toggle_label, next_active) = if user.active {
        ("Deactivate", "false")
    } else {
        ("Reactivate", "true")
    };
    let (role_label, next_role) = match user.role {
        Role::Admin => ("Make user", "user"),
        Role::User => ("Make admin", "admin"),
    };
    let id = user.id.to_string();
    let toggle_aria = format!("{toggle_label} {}", user.username);
    let role_aria = format!("{role_label} {}", user.username);
    let revoke_aria = format!("Revoke every credential of {}", user.username);
    let revoke_tokens_id = format!("revoke-tokens-{}", user.id);
    let deactivating = user.active;
    view! {
        <tr>
            <td data-label="User">
                <strong>{user.display_name.clone()}</strong>
                <span class="muted">" @"{user.username.clone()}</span>
                {is_me.then(|| view! { <span class="badge neutral">"You"</span> })}
            </td>
            <td data-label="Role">{match user.role { Role::Admin => "Administrator", Role::User => "User" }}</td>
            <td data-label="Status">
                {if user.active {
                    view! { <span class="badge active">"Active"</span> }.into_any()
                } else {
                    view! { <span class="badge expired">"Deactivated"</span> }.into_any()
                }}
            </td>
            <td data-label="Created"><LocalTime at=user.created_at /></td>
            <td class="actions">
                <form method="post" action=UpdateUser::url()>
                    <input type="hidden" name="id" value=id.clone() />
                    <input type="hidden" name="active" value=next_active />
                    <button type="submit" class="button small secondary"
                        aria-label=toggle_aria>{toggle_label}</button>
                    {deactivating.then(|| view! {
                        <label class="inline-check" for=revoke_tokens_id.clone()>
                            <input type="checkbox" id=revoke_tokens_id.clone() name="revoke_tokens"
                                value="true" checked />
                            " and revoke their tokens"
                        </label>
                    })}
                </form>
                <form method="post" action=RevokeCredentials::url()>
                    <input type="hidden" name="id" value=id.clone() />
                    <button type="submit" class="button small danger"
                        aria-label=revoke_aria>"Revoke all credentials"</button>
                </form>
                <form method="post" action=UpdateUser::url()>
                    <input type="hidden" name="id" value=id />
                    <input type="hidden" name="role" value=next_role />
                    <button type="submit" class="button small secondary"
                        aria-label=role_aria>{role_label}</button>
                </form>
            </td>
        </tr>
    }
}
