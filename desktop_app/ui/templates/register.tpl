% rebase('base.tpl', title=title, prefix=prefix)
<section class="card narrow">
<h1>Register</h1>
% if error:
<p class="error" role="alert">{{error}}</p>
% end
<form method="post" action="{{prefix}}/bokeh/register">
  <input type="hidden" name="csrf_token" value="{{csrf_token}}">
  <label>User name <input name="username" autocomplete="username" required autofocus
    pattern="[A-Za-z0-9_.@\-]{1,64}"></label>
  <label>Password <input name="password" type="password" autocomplete="new-password" required></label>
  <label>Confirm password <input name="password_confirm" type="password" autocomplete="new-password" required></label>
  <button type="submit">Create account</button>
</form>
<p>Already registered? <a href="{{prefix}}/bokeh/login">Log in</a></p>
</section>
