//! The words of every message, per kind and language: a subject and a body with `{name}`-style
//! placeholders. The same body makes the plain text, the HTML (escaped) and the redacted preview
//! that the history keeps. Languages: English (the fallback) and French.

/// Which message to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    Welcome,
    WelcomeWithCode,
    PasswordReset,
    Otp,
    NewDevice,
    SessionReuse,
    ProfileUpdated,
    PasswordChanged,
    RegistrationAttempted,
    SecondFactorLocked,
    OrderPlaced,
    OrderStatus,
}

impl Template {
    /// The notification kind stored and shown to clients.
    pub fn kind(self) -> &'static str {
        match self {
            Self::Welcome | Self::WelcomeWithCode => "WELCOME",
            Self::PasswordReset => "PASSWORD_RESET",
            Self::Otp => "ONE_TIME_CODE",
            Self::NewDevice => "NEW_DEVICE_SIGN_IN",
            Self::SessionReuse => "SESSION_REVOKED",
            Self::ProfileUpdated => "PROFILE_UPDATED",
            Self::PasswordChanged => "PASSWORD_CHANGED",
            Self::RegistrationAttempted => "REGISTRATION_ATTEMPTED",
            Self::SecondFactorLocked => "SECOND_FACTOR_LOCKED",
            Self::OrderPlaced => "ORDER_PLACED",
            Self::OrderStatus => "ORDER_STATUS_CHANGED",
        }
    }

    /// Subject and body in `language` (a BCP 47 tag; anything but French reads English).
    pub fn words(self, language: Option<&str>) -> (&'static str, &'static str) {
        let french =
            language.is_some_and(|l| l.eq_ignore_ascii_case("fr") || l.to_ascii_lowercase().starts_with("fr-"));
        if french { self.french() } else { self.english() }
    }

    fn english(self) -> (&'static str, &'static str) {
        match self {
            Self::Welcome => ("Welcome to Tessera, {name}", "Welcome, {name}! Your account is ready."),
            Self::WelcomeWithCode => (
                "Welcome to Tessera, {name}",
                "Welcome, {name}! Your verification code is {code}\nIt expires in 10 minutes.",
            ),
            Self::PasswordReset => (
                "Reset your Tessera password",
                "Someone asked to reset your password. To choose a new one within 30 minutes, open {link}\n\
                 or enter this token: {code}\nIf it was not you, ignore this message: your password stays.",
            ),
            Self::Otp => {
                ("Your Tessera code", "Your one-time code is {code}\nIt expires in 10 minutes. Never share it.")
            }
            Self::NewDevice => (
                "New sign-in to your Tessera account",
                "Your account was just signed in to from a new device ({device}, {ip}).\n\
                 If it was not you, change your password and sign out everywhere.",
            ),
            Self::SessionReuse => (
                "We signed a session out for your safety",
                "An old sign-in token of yours was used again, which can mean it was stolen. \
                 We signed that session out.\nIf you did not expect this, change your password.",
            ),
            Self::ProfileUpdated => (
                "Your Tessera profile was changed",
                "These profile fields changed: {fields}.\nIf it was not you, change your password.",
            ),
            Self::PasswordChanged => (
                "Your Tessera password was changed",
                "Your password was just changed, and your other sessions were signed out.\n\
                 If it was not you, reset your password at once.",
            ),
            Self::RegistrationAttempted => (
                "Someone tried to sign up with your email",
                "Someone just tried to create a Tessera account with this email address, which already has one.\n\
                 If it was you, sign in instead, or reset your password. If not, you can ignore this message.",
            ),
            Self::SecondFactorLocked => (
                "Two-factor sign-in locked on your Tessera account",
                "Too many wrong authenticator codes were entered for your account, so two-factor sign-in is \
                 locked for {minutes} minute(s).\nWhoever tried knew your password: if it was not you, change it now.",
            ),
            Self::OrderPlaced => ("We received your order", "Thank you! We received your order {order}."),
            Self::OrderStatus => ("Your order is {status}", "Your order {order} is now {status}."),
        }
    }

    fn french(self) -> (&'static str, &'static str) {
        match self {
            Self::Welcome => ("Bienvenue sur Tessera, {name}", "Bienvenue, {name} ! Votre compte est prêt."),
            Self::WelcomeWithCode => (
                "Bienvenue sur Tessera, {name}",
                "Bienvenue, {name} ! Votre code de vérification est {code}\nIl expire dans 10 minutes.",
            ),
            Self::PasswordReset => (
                "Réinitialisez votre mot de passe Tessera",
                "Quelqu'un a demandé à réinitialiser votre mot de passe. Pour en choisir un nouveau dans les \
                 30 minutes, ouvrez {link}\nou saisissez ce jeton : {code}\nSi ce n'était pas vous, ignorez ce message.",
            ),
            Self::Otp => (
                "Votre code Tessera",
                "Votre code à usage unique est {code}\nIl expire dans 10 minutes. Ne le partagez jamais.",
            ),
            Self::NewDevice => (
                "Nouvelle connexion à votre compte Tessera",
                "Votre compte vient d'être utilisé depuis un nouvel appareil ({device}, {ip}).\n\
                 Si ce n'était pas vous, changez votre mot de passe et déconnectez-vous partout.",
            ),
            Self::SessionReuse => (
                "Nous avons fermé une session par sécurité",
                "Un ancien jeton de connexion a été réutilisé, ce qui peut signifier qu'il a été volé. \
                 Nous avons fermé cette session.\nSi vous ne vous y attendiez pas, changez votre mot de passe.",
            ),
            Self::ProfileUpdated => (
                "Votre profil Tessera a été modifié",
                "Ces champs du profil ont changé : {fields}.\nSi ce n'était pas vous, changez votre mot de passe.",
            ),
            Self::PasswordChanged => (
                "Votre mot de passe Tessera a été changé",
                "Votre mot de passe vient d'être changé et vos autres sessions ont été fermées.\n\
                 Si ce n'était pas vous, réinitialisez-le tout de suite.",
            ),
            Self::RegistrationAttempted => (
                "Quelqu'un a tenté de s'inscrire avec votre adresse",
                "Quelqu'un vient d'essayer de créer un compte Tessera avec cette adresse, qui en a déjà un.\n\
                 Si c'était vous, connectez-vous, ou réinitialisez votre mot de passe. Sinon, ignorez ce message.",
            ),
            Self::SecondFactorLocked => (
                "Connexion en deux étapes bloquée sur votre compte Tessera",
                "Trop de codes d'authentification erronés ont été saisis : la connexion en deux étapes est \
                 bloquée pendant {minutes} minute(s).\nLa personne connaissait votre mot de passe : si ce n'était \
                 pas vous, changez-le maintenant.",
            ),
            Self::OrderPlaced => ("Nous avons reçu votre commande", "Merci ! Nous avons reçu votre commande {order}."),
            Self::OrderStatus => ("Votre commande est {status}", "Votre commande {order} est maintenant {status}."),
        }
    }
}
