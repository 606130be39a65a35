//! `/admin/users`: administrators list, create, (de)activate and change the role of users.
//! Everyone else gets a 403 page.

use crate::accounts::rules::Role;
use crate::components::{
    field_error, form_error, posted_error, FormAlert, FormFields, ServerForm, TextField,
};
use crate::errors::AppError;
use crate::time::LocalTime;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub active: bool,
    /// Milliseconds on the wire, as `TokenView`'s instants.
    #[serde(with = "chrono::serde::ts_milliseconds")]
    pub created_at: DateTime<Utc>,
    pub is_me: bool,
}

#[cfg(feature = "ssr")]
fn row(user: crate::store::UserRecord, me: i64) -> UserRow {
    UserRow {
        is_me: user.id == me,
        id: user.id,
        username: user.username,
        display_name: user.display_name,
        role: user.role,
        active: user.active,
        created_at: user.created_at,
    }
}

/// What creating or changing a user answers: that user, and the list as it now stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserChanged {
    pub user: UserRow,
    pub users: Vec<UserRow>,
}

#[cfg(feature = "ssr")]
async fn all_users(admin: i64) -> Result<Vec<UserRow>, AppError> {
    let users = super::on_server::state().store.list_users().await?;
    Ok(users.into_iter().map(|u| row(u, admin)).collect())
}

#[server(prefix = "/rpc", endpoint = "admin_list_users")]
pub async fn list_users() -> Result<Vec<UserRow>, AppError> {
    all_users(super::on_server::admin()?.user.id).await
}

#[server(prefix = "/rpc", endpoint = "admin_create_user")]
pub async fn create_user(
    username: String,
    display_name: String,
    password: String,
    role: String,
) -> Result<UserChanged, AppError> {
    use crate::accounts::service::{self, AccountForm};
    let admin = super::on_server::admin()?;
    let role = Role::parse(&role).ok_or_else(|| AppError::field("role", "Choose a role."))?;
    let form = AccountForm {
        username: &username,
        display_name: &display_name,
        password: &password,
        role,
    };
    let user = service::create_user(&super::on_server::state(), form).await?;
    Ok(UserChanged {
        user: row(user, admin.user.id),
        users: all_users(admin.user.id).await?,
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
    use crate::accounts::service::{self, AccessRequest};
    let admin = super::on_server::admin()?;
    let role = match role.as_deref() {
        None | Some("") => None,
        Some(text) => {
            Some(Role::parse(text).ok_or_else(|| AppError::Refused("Unknown role.".into()))?)
        }
    };
    let request = AccessRequest {
        active,
        role,
        revoke_tokens: Some(revoke_tokens.is_some()),
    };
    let user =
        service::change_access(&super::on_server::state(), admin.user.id, id, request).await?;
    Ok(UserChanged {
        user: row(user, admin.user.id),
        users: all_users(admin.user.id).await?,
    })
}

/// Ends every session and access token of a user and revokes their personal access tokens.
#[server(prefix = "/rpc", endpoint = "admin_revoke_credentials")]
pub async fn revoke_credentials(id: i64) -> Result<UserChanged, AppError> {
    use crate::accounts::service;
    let admin = super::on_server::admin()?;
    let state = super::on_server::state();
    service::revoke_credentials(&state, admin.user.id, id).await?;
    let user = state
        .store
        .user_by_id(id)
        .await?
        .ok_or_else(|| AppError::Refused("That user no longer exists.".into()))?;
    Ok(UserChanged {
        user: row(user, admin.user.id),
        users: all_users(admin.user.id).await?,
    })
}

/// The page renders on the server with every user; `UserManager` takes it from there.
#[component]
pub fn AdminUsersPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if matches!(super::on_server::admin(), Err(AppError::Forbidden)) {
        super::on_server::set_status(http::StatusCode::FORBIDDEN);
    }
    let users = Resource::new(|| (), |_| list_users());
    view! {
        <Title text="Users" />
        <p class="eyebrow">"Admin"</p>
        <h1>"Users"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match users.await {
                    Ok(users) => view! {
                        <UserManager initial=users posted_create=posted_error(CreateUser::PATH)
                            posted_update=posted_error(UpdateUser::PATH)
                            posted_revoke=posted_error(RevokeCredentials::PATH) />
                    }.into_any(),
                    Err(AppError::Forbidden) => view! {
                        <div class="alert error" role="alert">
                            "Only administrators can manage users."
                        </div>
                    }.into_any(),
                    Err(error) => view! {
                        <div class="alert error" role="alert">{error.to_string()}</div>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The user table and the form to create one. Both answer with the new list.
#[island]
fn UserManager(
    initial: Vec<UserRow>,
    posted_create: Option<AppError>,
    posted_update: Option<AppError>,
    posted_revoke: Option<AppError>,
) -> impl IntoView {
    let create = ServerAction::<CreateUser>::new();
    let create_error = form_error(create, posted_create);
    let created = move || {
        create.value().with(|r| {
            r.as_ref()
                .and_then(|r| r.as_ref().ok())
                .map(|c| c.user.username.clone())
        })
    };
    let update = ServerAction::<UpdateUser>::new();
    let update_error = form_error(update, posted_update);
    let revoke = ServerAction::<RevokeCredentials>::new();
    let revoke_error = form_error(revoke, posted_revoke);
    let revoked = move || {
        revoke.value().with(|r| {
            r.as_ref()
                .and_then(|r| r.as_ref().ok())
                .map(|c| c.user.username.clone())
        })
    };
    let users = RwSignal::new(initial);
    for action in [create.value(), update.value(), revoke.value()] {
        Effect::new(move |_| {
            if let Some(Ok(changed)) = action.get() {
                users.set(changed.users);
            }
        });
    }
    view! {
        <FormAlert error=update_error />
        <FormAlert error=revoke_error />
        <div class="alert success" role="status" hidden=move || revoked().is_none()>
            {move || revoked().map(|name| format!(
                "Every session, access token and personal access token of {name} is revoked."
            ))}
        </div>
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
                    {move || users.get().into_iter().map(|user| view! { <UserRowView user update revoke /> }).collect_view()}
                </tbody>
            </table>
        </div>
        <section class="card" aria-labelledby="new-user-heading">
            <h2 id="new-user-heading">"Create a user"</h2>
            <FormAlert error=create_error />
            <div class="alert success" role="status" hidden=move || created().is_none()>
                {move || created().map(|name| format!("Created {name}."))}
            </div>
            <ServerForm action=create read=|f| CreateUser {
                username: f.text("username"),
                display_name: f.text("display_name"),
                password: f.text("password"),
                role: f.text("role"),
            }>
                <div class="grid-2">
                    <TextField label="Username" name="username" required=true maxlength=64
                        autocomplete="off" error=field_error(create_error, "username") />
                    <TextField label="Display name" name="display_name" maxlength=100
                        autocomplete="off" error=field_error(create_error, "display_name") />
                    <TextField label="Initial password" name="password" kind="password" required=true
                        autocomplete="new-password" maxlength=256 help="At least 8 characters."
                        error=field_error(create_error, "password") />
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
            </ServerForm>
        </section>
    }
}

/// Reads a row's Deactivate/Reactivate or role form: the id and the one change it carries.
fn read_update(form: &FormFields) -> UpdateUser {
    let role = form.text("role");
    UpdateUser {
        id: form.text("id").parse().unwrap_or_default(),
        active: form.text("active").parse().ok(),
        role: (!role.is_empty()).then_some(role),
        revoke_tokens: form.checked("revoke_tokens").then(|| "true".to_owned()),
    }
}

#[component]
fn UserRowView(
    user: UserRow,
    update: ServerAction<UpdateUser>,
    revoke: ServerAction<RevokeCredentials>,
) -> impl IntoView {
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
    let id_again = id.clone();
    let id_revoke = id.clone();
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
                {user.is_me.then(|| view! { <span class="badge neutral">"You"</span> })}
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
                <ServerForm action=update read=read_update>
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
                </ServerForm>
                <ServerForm action=revoke read=|f| RevokeCredentials {
                    id: f.text("id").parse().unwrap_or_default(),
                }>
                    <input type="hidden" name="id" value=id_revoke />
                    <button type="submit" class="button small danger"
                        aria-label=revoke_aria>"Revoke all credentials"</button>
                </ServerForm>
                <ServerForm action=update read=read_update>
                    <input type="hidden" name="id" value=id_again />
                    <input type="hidden" name="role" value=next_role />
                    <button type="submit" class="button small secondary"
                        aria-label=role_aria>{role_label}</button>
                </ServerForm>
            </td>
        </tr>
    }
}
