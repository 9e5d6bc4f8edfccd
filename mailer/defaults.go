package mailer

// The default emails. Subjects and text bodies are text/template sources,
// HTML bodies html/template sources (so every value is escaped for its
// context, and unsafe URLs such as javascript: are neutralised).

const htmlHead = `<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="margin:0;padding:24px;background:#f4f5f7;font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#1f2328;">
<div style="max-width:520px;margin:0 auto;background:#ffffff;border-radius:8px;padding:28px;">
`

const htmlFoot = `<p style="margin-top:28px;color:#6b7280;font-size:13px;">{{if .AppURL}}<a href="{{.AppURL}}" style="color:#6b7280;">{{.AppName}}</a>{{else}}{{.AppName}}{{end}}</p>
</div>
</body>
</html>
`

const defaultTextFoot = `
-- 
{{.AppName}}{{if .AppURL}} ({{.AppURL}}){{end}}
`

func defaultVerification() Template {
	return Template{
		Subject: `Confirm your email address for {{.AppName}}`,
		Text: `Hello,

Please confirm that {{.Email}} is your email address for {{.AppName}} by opening this link:

{{.ActionURL}}

If you did not sign up, no action is needed and this address will not be used.
` + defaultTextFoot,
		HTML: htmlHead + `<h2 style="margin-top:0;">Confirm your email address</h2>
<p>Please confirm that <strong>{{.Email}}</strong> is your email address for {{.AppName}}.</p>
<p style="margin:24px 0;"><a href="{{.ActionURL}}" style="display:inline-block;padding:10px 18px;background:#2563eb;color:#ffffff;text-decoration:none;border-radius:6px;">Confirm email</a></p>
<p style="font-size:13px;color:#6b7280;">Or open this address in your browser:<br><a href="{{.ActionURL}}" style="color:#2563eb;word-break:break-all;">{{.ActionURL}}</a></p>
<p>If you did not sign up, no action is needed.</p>
` + htmlFoot,
	}
}

func defaultPasswordReset() Template {
	return Template{
		Subject: `Reset your {{.AppName}} password`,
		Text: `Hello,

Someone asked to reset the password of the {{.AppName}} account for {{.Email}}. To choose a new password, open this link:

{{.ActionURL}}

If it was not you, ignore this email: your password stays as it is.
` + defaultTextFoot,
		HTML: htmlHead + `<h2 style="margin-top:0;">Reset your password</h2>
<p>Someone asked to reset the password of the {{.AppName}} account for <strong>{{.Email}}</strong>.</p>
<p style="margin:24px 0;"><a href="{{.ActionURL}}" style="display:inline-block;padding:10px 18px;background:#2563eb;color:#ffffff;text-decoration:none;border-radius:6px;">Choose a new password</a></p>
<p style="font-size:13px;color:#6b7280;">Or open this address in your browser:<br><a href="{{.ActionURL}}" style="color:#2563eb;word-break:break-all;">{{.ActionURL}}</a></p>
<p>If it was not you, ignore this email: your password stays as it is.</p>
` + htmlFoot,
	}
}

func defaultOTP() Template {
	return Template{
		Subject: `Your {{.AppName}} sign-in code`,
		Text: `Hello,

Your one-time code for signing in to {{.AppName}} as {{.Email}} is:

    {{.OTP}}

It expires shortly. If you did not try to sign in, you can ignore this email.
` + defaultTextFoot,
		HTML: htmlHead + `<h2 style="margin-top:0;">Your sign-in code</h2>
<p>Your one-time code for signing in to {{.AppName}} as {{.Email}} is:</p>
<p style="font-size:28px;letter-spacing:6px;font-weight:bold;font-family:monospace;margin:24px 0;">{{.OTP}}</p>
<p>It expires shortly. If you did not try to sign in, you can ignore this email.</p>
` + htmlFoot,
	}
}

func defaultEmailChange() Template {
	return Template{
		Subject: `Confirm your new {{.AppName}} email address`,
		Text: `Hello,

A request was made to change the email address of your {{.AppName}} account to {{.Email}}. To confirm it, open this link:

{{.ActionURL}}

If you did not ask for this, ignore this email and nothing will change.
` + defaultTextFoot,
		HTML: htmlHead + `<h2 style="margin-top:0;">Confirm your new email address</h2>
<p>A request was made to change the email address of your {{.AppName}} account to <strong>{{.Email}}</strong>.</p>
<p style="margin:24px 0;"><a href="{{.ActionURL}}" style="display:inline-block;padding:10px 18px;background:#2563eb;color:#ffffff;text-decoration:none;border-radius:6px;">Confirm new email</a></p>
<p style="font-size:13px;color:#6b7280;">Or open this address in your browser:<br><a href="{{.ActionURL}}" style="color:#2563eb;word-break:break-all;">{{.ActionURL}}</a></p>
<p>If you did not ask for this, ignore this email and nothing will change.</p>
` + htmlFoot,
	}
}

func defaultLoginAlert() Template {
	return Template{
		Subject: `New sign-in to your {{.AppName}} account`,
		Text: `Hello,

Your {{.AppName}} account ({{.Email}}) was just signed in to from a device or location we have not seen before.
{{if .AlertInfo}}
{{.AlertInfo}}
{{end}}
If this was you, there is nothing to do. If not, change your password right away.
` + defaultTextFoot,
		HTML: htmlHead + `<h2 style="margin-top:0;">New sign-in to your account</h2>
<p>Your {{.AppName}} account (<strong>{{.Email}}</strong>) was just signed in to from a device or location we have not seen before.</p>
{{if .AlertInfo}}<p style="padding:12px;background:#f4f5f7;border-radius:6px;">{{.AlertInfo}}</p>{{end}}
<p>If this was you, there is nothing to do. If not, change your password right away.</p>
` + htmlFoot,
	}
}
