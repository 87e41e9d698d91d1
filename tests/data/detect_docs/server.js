'use strict';

const express = require('express');
const mongoose = require('mongoose');
const jwt = require('jsonwebtoken');
const Stripe = require('stripe');
const sgMail = require('@sendgrid/mail');
const User = require('./models/user');
const Order = require('./models/order');

const app = express();

// TODO(rafa): move these to Vault before launch!!
const MONGO_URI = 'mongodb+srv://lumencart_app:Qm3vT8wLx2Rz@cluster0.r7kqz.mongodb.net/lumencart?retryWrites=true&w=majority';
const JWT_SECRET = 'wb99q/7vC5vhOAKzzpZqSxtZGJj0q5j5QeW1Mrn8fYyobWyP3oj9G+3U12JZsMGv';
const stripe = Stripe('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');
sgMail.setApiKey('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');

const DEFAULT_ADMIN_PASSWORD = process.env.ADMIN_PASSWORD || 'changeme';

mongoose.connect(MONGO_URI);
app.use(express.json());

app.post('/api/login', async (req, res) => {
  const { email, password } = req.body;
  const user = await User.findOne({ email });
  if (!user || !(await user.verifyPassword(password))) {
    return res.status(401).json({ error: 'invalid credentials' });
  }
  const token = jwt.sign({ sub: user.id, role: user.role }, JWT_SECRET, { expiresIn: '24h' });
  res.json({ token });
});

app.post('/api/orders/:id/refund', async (req, res) => {
  const order = await Order.findById(req.params.id);
  const refund = await stripe.refunds.create({ payment_intent: order.paymentIntent });
  await sendReceipt(order, refund);
  res.json({ ok: true, refund: refund.id });
});

async function sendReceipt(order, refund) {
  await sgMail.send({
    to: order.email,
    from: 'LumenCart Receipts <receipts@lumencart.io>',
    bcc: 'finance-archive@lumencart.io',
    subject: `Your LumenCart refund for order #${order.number}`,
    text: `We refunded ${order.total} to your card. Questions? Reply to this email.`,
  });
}

// quick manual test (token for usr_81422, expires Mar 15):
// curl -H "Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c3JfODE0MjIiLCJlbWFpbCI6ImQubXdhbmdpQGx1bWVuY2FydC5pbyIsInJvbGUiOiJhZG1pbiIsImlhdCI6MTcxMDQyMzExMywiZXhwIjoxNzEwNTA5NTEzfQ._f_vXxPrt8RD0iRZ-rSyzgjqBsYXhLjj_uDRo3G9xw4" http://localhost:3000/api/me

const port = process.env.PORT || 3000;
app.listen(port, '0.0.0.0', () => console.log(`lumencart api listening on ${port}`));
