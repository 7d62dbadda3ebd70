% rebase('base.tpl', title=title, prefix=prefix)
<section class="card narrow">
<h1>Log in</h1>
% if error:
<p class="error" role="alert">{{error}}</p>
% end
<form method="post" action="{{prefix}}/bokeh/login">
  <input type="hidden" name="csrf_token" value="{{csrf_token}}">
  <input type="hidden" name="next" value="{{next}}">
  % if multi_user:
  <label>User name <input name="username" autocomplete="username" required autofocus></label>
  <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
  % else:
  <input type="hidden" name="username" value="{{single_user_name}}">
  <label>API key <input name="password" type="password" autocomplete="current-password" required autofocus></label>
  <p class="hint">Single-user mode: the key is shown by <code>plotdesk info</code>.</p>
  % end
  <button type="submit">Log in</button>
</form>
% if multi_user:
<p>No account yet? <a href="{{prefix}}/bokeh/register">Register</a></p>
% end
</section>
